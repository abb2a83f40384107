"""``gnomon models compare`` and ``gnomon models best``: versions and runs side by side."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    client_of,
    console,
    new_table,
    print_json,
    say,
)
from gnomon.errors import InvalidInput, NotFound
from gnomon.evaluation.comparison import evaluation_rows
from gnomon.registry.cli_common import AliasOption, say_registered
from gnomon.tracking.cli import add_compare_rows
from gnomon.tracking.comparison import CompareRow, compare_rows, lower_is_better, values_differ
from gnomon.tracking.entities import Run, RunStatus

if TYPE_CHECKING:
    from gnomon.registry.api import RegistryApi
    from gnomon.registry.entities import ModelVersion
    from gnomon.sdk import Client


# Who made a version, in the lineage rows: the git state its run recorded.
_GIT_TAGS = {
    "code": "gnomon.git.commit",
    "branch": "gnomon.git.branch",
    "dirty": "gnomon.git.dirty",
}


# -- compare ---------------------------------------------------------------------------------


def compare_versions(
    ctx: typer.Context,
    name: str,
    versions: Annotated[list[str], typer.Argument(help="Two or more versions or aliases.")],
    data: Annotated[
        bool,
        typer.Option(
            "--data/--no-data",
            help="Show each version's training data (downloads each model folder).",
        ),
    ] = True,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """The versions' runs' params, metrics and evaluations side by side, then their lineage.

    The evaluation rows are what ``gnomon.evaluate`` logged in each version's run: its
    metrics and, where thresholds were given, the verdict.
    """
    client = client_of(ctx)
    found = _distinct_versions(client.registry, name, versions)
    runs = [_version_run(client, v) for v in found]
    rows = evaluation_rows(compare_rows(runs), runs) + _lineage_rows(client, found, runs, data)
    if output is OutputFormat.JSON:
        listed = [
            {"version": v.version, "label": r.id, "run_id": v.run_id}
            for v, r in zip(found, runs, strict=True)
        ]
        print_json({"model": name, "versions": listed, "rows": rows})
        return
    for section in ("params", "metrics", "evaluation", "lineage"):
        section_rows = [row for row in rows if row.section == section]
        if section_rows:
            console().print(_compare_table(section.capitalize(), found, runs, section_rows))


def _distinct_versions(
    registry: RegistryApi, name: str, selectors: Sequence[str]
) -> list[ModelVersion]:
    found: dict[int, ModelVersion] = {}
    for selector in selectors:
        version = registry.get_version(name, selector)
        found.setdefault(version.version, version)
    if len(found) < 2:
        raise InvalidInput("models compare needs at least two different versions")
    return list(found.values())


def _version_run(client: Client, version: ModelVersion) -> Run:
    """The version's run, renamed to ``v<number>``: two versions may come from one run, and
    an imported version has none (it compares as a run without params or metrics)."""
    label = f"v{version.version}"
    if version.run_id is None:
        return _no_run(label)
    try:
        return replace(client.get_run(version.run_id), id=label)
    except NotFound:  # the run was deleted for good; the version outlives it
        return _no_run(label)


def _no_run(label: str) -> Run:
    return Run(label, "", MISSING, RunStatus.FINISHED, 0, None, "", "")


def _lineage_rows(
    client: Client, versions: Sequence[ModelVersion], runs: Sequence[Run], data: bool
) -> list[CompareRow]:
    values: dict[str, dict[str, str | float | None]] = {}
    for version, run in zip(versions, runs, strict=True):
        lineage: dict[str, str | None] = {
            "source": version.source,
            "run id": version.run_id,
            "flavor": version.flavor,
            **{key: run.tags.get(tag) for key, tag in _GIT_TAGS.items()},
            "created by": version.created_by,
        }
        if data:
            lineage["data"] = _training_data(client, version)
        for key, value in lineage.items():
            values.setdefault(key, {})[run.id] = value
    return [
        CompareRow("lineage", key, row, values_differ(row.values())) for key, row in values.items()
    ]


def _training_data(client: Client, version: ModelVersion) -> str | None:
    from gnomon.modelfolder import read_spec

    uri = f"models:/{version.model_name}/{version.version}"
    with tempfile.TemporaryDirectory(prefix="gnomon-compare-") as tmp:
        return read_spec(client.registry.download_version(uri, Path(tmp))).training_data


def _compare_table(
    title: str, versions: Sequence[ModelVersion], runs: Sequence[Run], rows: Sequence[CompareRow]
) -> Table:
    table = new_table(title, "key")
    for version, run in zip(versions, runs, strict=True):
        table.add_column(f"v{version.version}\n{run.name}", overflow="fold")
    return add_compare_rows(table, runs, rows)


# -- best ------------------------------------------------------------------------------------


def best_run(
    ctx: typer.Context,
    experiment: Annotated[str, typer.Option("--experiment", "-e", help="Experiment name or id.")],
    metric: Annotated[str, typer.Option("--metric", "-m", help="The metric to rank runs by.")],
    filter_: Annotated[
        str | None,
        typer.Option("--filter", "-f", help="More conditions, e.g. \"params.model = 'rf'\""),
    ] = None,
    lower: Annotated[
        bool | None,
        typer.Option(
            "--lower-is-better/--higher-is-better",
            help="Default: guessed from the metric's name (loss, error, rmse... are lower).",
            show_default=False,
        ),
    ] = None,
    model_path: Annotated[
        str | None,
        typer.Option("--model-path", help="Default: the run's first logged model, else 'model'."),
    ] = None,
    register_as: Annotated[
        str | None, typer.Option("--register", help="Register the best run's model as NAME.")
    ] = None,
    alias: AliasOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Find the best FINISHED run of an experiment by a metric; optionally register its model."""
    if alias is not None and register_as is None:
        raise InvalidInput("--alias needs --register NAME")
    client = client_of(ctx)
    lower = lower_is_better(metric) if lower is None else lower
    run = _best(client, experiment, metric, filter_, lower)
    version = None
    if register_as is not None:
        source = f"runs:/{run.id}/{model_path or _logged_model(run)}"
        version = client.registry.register(source, register_as, alias=alias)
    if output is OutputFormat.JSON:
        picked = {"id": run.id, "name": run.name, "metric": metric, "value": run.metrics[metric]}
        print_json({"run": picked, "lower_is_better": lower, "version": version})
        return
    direction = "lowest" if lower else "highest"
    value = run.metrics[metric]
    say(f"best run by {metric} ({direction}): {run.name} ({run.id}) {metric}={value:.6g}")
    if version is not None:
        say_registered(version, alias)


def _best(client: Client, experiment: str, metric: str, extra: str | None, lower: bool) -> Run:
    key = f"metrics.`{metric}`"
    # `> -1e308` keeps only runs where the metric is a number: absent and NaN are left out.
    # The filter language has only `and`, so appending the user's conditions is safe.
    query = f"status = 'FINISHED' and {key} > -1e308" + (f" and {extra}" if extra else "")
    order = [f"{key} {'ASC' if lower else 'DESC'}"]
    page = client.search_runs(experiment, filter=query, order_by=order, max_results=1)
    if not page.items:
        where = f" matching {extra!r}" if extra else ""
        raise NotFound(f"no FINISHED run of experiment {experiment!r}{where} has metric {metric!r}")
    return page.items[0]


def _logged_model(run: Run) -> str:
    from gnomon.registry.fluent import LOGGED_MODELS_TAG  # the fluent API loads the SDK: slow

    logged = [path for path in run.tags.get(LOGGED_MODELS_TAG, "").split(",") if path]
    return logged[0] if logged else "model"
