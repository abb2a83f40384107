"""``gnomon import mlflow --from URI``: copy an MLflow tracking store into gnomon."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gnomon.backends import open_services
from gnomon.cli.output import (
    OutputFormat,
    OutputOption,
    client_of,
    console,
    hint,
    new_table,
    print_json,
    to_jsonable,
    warn,
)
from gnomon.mlflow_compat.import_sources import open_source
from gnomon.mlflow_compat.import_summary import ImportSummary
from gnomon.mlflow_compat.importing import import_mlflow
from gnomon.mlflow_compat.logged_models import LoggedModelService
from gnomon.progress import progress_bar

import_app = typer.Typer(help="Import runs from other tracking tools.", no_args_is_help=True)

_SHOWN_SKIPS = 30  # reasons listed in the table; --output json lists every skipped item


@import_app.command("mlflow")
def mlflow(
    ctx: typer.Context,
    from_: Annotated[
        str,
        typer.Option(
            "--from",
            help="The MLflow store: a folder (./mlruns, file:///abs/mlruns), sqlite:///mlflow.db, "
            "postgresql://user@host/db, or a tracking server's http(s)://host:port "
            "(MLFLOW_TRACKING_TOKEN is sent when set).",
        ),
    ],
    experiment: Annotated[
        list[str] | None,
        typer.Option("--experiment", "-e", help="Import only this experiment (repeatable)."),
    ] = None,
    artifacts_root: Annotated[
        Path | None,
        typer.Option(
            "--artifacts-root",
            metavar="DIR",
            help="A folder whose files a run's local artifact location may name: artifacts "
            "elsewhere are not read. A SQL store's local artifacts are copied only with it; a "
            "file store's own folder is always allowed.",
        ),
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Copy experiments, runs, params, metric histories, tags and artifacts from MLflow.

    Registered models, their versions (the model files copied) and aliases follow, into an
    embedded store. Running it again skips what is already imported and finishes runs an
    interrupted import left incomplete.
    """
    client = client_of(ctx)
    services = open_services(client.settings)  # the database's, embedded: one per process
    registry, models = services.registry, services.find(LoggedModelService)
    source = open_source(from_, max_file_bytes=client.settings.max_artifact_bytes)
    try:
        with progress_bar("importing runs", unit="runs") as advance:
            summary = import_mlflow(
                client.tracking,
                client.scope,
                source,
                experiment or (),
                advance,
                artifacts_root,
                registry,
                models,
            )
    finally:
        source.close()
    if output is OutputFormat.JSON:
        print_json({**to_jsonable(summary), "complete": summary.complete})
    else:
        _print_summary(summary)
    if not summary.complete:
        raise typer.Exit(1)


def _print_summary(summary: ImportSummary) -> None:
    s = summary
    table = new_table(f"Imported from {s.source}", "what", "count")
    rows = [
        ("experiments created", s.experiments_created),
        ("experiments matched by name", s.experiments_matched),
        ("runs imported", s.runs_imported),
        ("runs finished after an interruption", s.runs_resumed),
        ("runs already imported", s.runs_already_imported),
        ("params", s.params),
        ("metric points", s.metric_points),
        ("tags", s.tags),
        ("artifact files", s.artifact_files),
        ("artifact bytes", s.artifact_bytes),
        ("registered models created", s.models_created),
        ("registered models matched by name", s.models_matched),
        ("model versions imported", s.versions_imported),
        ("model versions already imported", s.versions_already_imported),
        ("aliases set", s.aliases_set),
        ("model files", s.model_files),
    ]
    for what, count in rows:
        table.add_row(what, f"{count:,}")
    console().print(table)
    if s.skipped:
        _print_skipped(s)
    for item in s.incomplete:
        warn(f"{item.subject} is incomplete: {item.reason}")
    if s.incomplete:
        hint("Run the same command again to finish the incomplete runs.")


def _print_skipped(summary: ImportSummary) -> None:
    groups = summary.skipped_by_reason()
    table = new_table(f"Left out ({len(summary.skipped):,})", "what", "why", "count", "first")
    for kind, reason, count, first in groups[:_SHOWN_SKIPS]:
        table.add_row(kind, reason, f"{count:,}", first)
    console().print(table)
    if len(groups) > _SHOWN_SKIPS:
        hint(f"{len(groups) - _SHOWN_SKIPS} more reasons: --output json lists every one.")
