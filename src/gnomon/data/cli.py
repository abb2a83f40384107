"""``gnomon data ...``: dataset versions from the shell, thin commands over ``client.datasets``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gnomon.checks import parse_duration
from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    console,
    format_size,
    format_time,
    new_table,
    print_json,
    state_of,
    warn,
)
from gnomon.data.cli_common import add_json, add_row, datasets_of, say_text
from gnomon.data.cli_schema import print_report, schema_app, validate
from gnomon.data.entities import DatasetDiff, DatasetVersion
from gnomon.progress import progress_bar

data_app = typer.Typer(
    help="Version datasets: add, list, show, log, checkout, diff, schema, validate, lineage."
)
data_app.add_typer(schema_app, name="schema")
data_app.command("validate")(validate)
SHOWN_FILES = 50  # files `show` lists; the manifest has them all (-o json)


@data_app.command("add")
def add(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A file or folder to version.")],
    name: Annotated[str, typer.Option("--name", "-n", help="The dataset's name.")],
    message: Annotated[str, typer.Option("--message", "-m", help="What changed.")] = "",
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Version a file or folder; unchanged content makes no new version."""
    from gnomon.data.quick import unchanged

    known = unchanged(path, name, state_of(ctx).workspace)
    if known is not None:  # the latest version already holds it: told without the store
        if output is OutputFormat.JSON:
            print_json(known)
        else:
            say_text(f"unchanged: {known['ref']} already holds this content")
        return
    with progress_bar("hashing and storing", unit="bytes") as advance:
        result = datasets_of(ctx).add(path, name, message=message, on_progress=advance)
    if output is OutputFormat.JSON:
        print_json(add_json(result))
        return
    version = result.version
    if result.created:
        say_text(
            f"{version.ref}: {version.files:,} files, {format_size(version.bytes)}; "
            f"stored {result.new_objects:,} new ({format_size(result.new_bytes)})"
        )
        if result.validation is not None and not result.validation.ok:
            print_report(result.validation, f"{version.ref} against the schema of {name}")
    else:
        say_text(f"unchanged: {version.ref} already holds this content")


@data_app.command("list")
def list_datasets(ctx: typer.Context, output: OutputOption = OutputFormat.TABLE) -> None:
    """The workspace's datasets and their latest versions."""
    found = datasets_of(ctx).list()
    if output is OutputFormat.JSON:
        print_json(found)
        return
    table = new_table(None, "name", "latest", "updated", "by")
    for dataset in found:
        add_row(
            table,
            dataset.name,
            str(dataset.latest_version),
            format_time(dataset.updated_time, compact=True),
            dataset.created_by,
        )
    console().print(table)


@data_app.command("log")
def log(ctx: typer.Context, name: str, output: OutputOption = OutputFormat.TABLE) -> None:
    """Every version of a dataset, newest first."""
    versions = datasets_of(ctx).versions(name)
    if output is OutputFormat.JSON:
        print_json(versions)
        return
    table = new_table(None, "version", "files", "size", "kind", "created", "by", "message")
    for version in versions:
        add_row(
            table,
            str(version.version),
            f"{version.files:,}",
            format_size(version.bytes),
            version.kind.value,
            format_time(version.created_time, compact=True),
            version.created_by,
            version.message or MISSING,
        )
    console().print(table)


@data_app.command("show")
def show(ctx: typer.Context, ref: str, output: OutputOption = OutputFormat.TABLE) -> None:
    """A version (NAME@VERSION, or NAME for the latest) and its files."""
    datasets = datasets_of(ctx)
    version = datasets.version(ref)
    manifest = datasets.manifest(version.ref)
    if output is OutputFormat.JSON:
        print_json({"version": version, "files": manifest.files})
        return
    _print_version(version)
    table = new_table(None, "path", "size", "digest")
    for entry in manifest.files[:SHOWN_FILES]:
        add_row(table, entry.path, format_size(entry.size), entry.digest)
    console().print(table)
    if len(manifest.files) > SHOWN_FILES:
        say_text(
            f"... and {len(manifest.files) - SHOWN_FILES:,} more files (-o json lists them all)"
        )


def _print_version(version: DatasetVersion) -> None:
    say_text(f"{version.ref} ({version.kind.value})", style="bold")
    say_text(f"  {version.files:,} files, {format_size(version.bytes)}")
    say_text(f"  created {format_time(version.created_time)} by {version.created_by}")
    if version.message:
        say_text(f"  message: {version.message}")
    for key, value in sorted(version.source.items()):
        say_text(f"  source {key}: {value}")
    if version.run_id:
        say_text(f"  run: {version.run_id}")
    say_text(f"  manifest: {version.manifest_digest}")


@data_app.command("checkout")
def checkout(
    ctx: typer.Context,
    ref: str,
    dest: Annotated[Path, typer.Argument(help="A new (or empty) folder to restore into.")],
) -> None:
    """Restore a version's files, byte for byte, into a new folder."""
    with progress_bar("restoring", unit="bytes") as advance:
        where = datasets_of(ctx).checkout(ref, dest, on_progress=advance)
    say_text(f"restored {ref} into {where}")


@data_app.command("used-by")
def used_by(ctx: typer.Context, ref: str, output: OutputOption = OutputFormat.TABLE) -> None:
    """The runs that used a version, and the model versions those runs made."""
    found = datasets_of(ctx).used_by(ref)
    if output is OutputFormat.JSON:
        print_json(found)
        return
    if not found.runs:
        say_text(f"no run has recorded {found.ref} as an input")
        return
    table = new_table(f"runs that used {found.ref}", "run", "name", "experiment", "status")
    table.add_column("as")
    table.add_column("recorded")
    for run in found.runs:
        add_row(
            table,
            run.run_id,
            run.run_name,
            run.experiment,
            run.status,
            run.context,
            format_time(run.recorded_time, compact=True),
        )
    console().print(table)
    if found.models:
        models = new_table("model versions those runs made", "model", "version", "run")
        for model in found.models:
            add_row(models, model.model, str(model.version), model.run_id)
        console().print(models)


@data_app.command("gc")
def gc(
    ctx: typer.Context,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than", help="Leave what was stored or reused more recently (90s, 1h, 7d)."
        ),
    ] = "1d",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be removed; remove nothing.")
    ] = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Remove content objects no version names: an add cut short, uploads never versioned."""
    grace = parse_duration(older_than, "--older-than")
    with progress_bar("reading manifests", unit="manifests") as advance:
        done = datasets_of(ctx).collect(grace_s=grace, dry_run=dry_run, on_progress=advance)
    if output is OutputFormat.JSON:
        print_json(done)
        return
    verb = "would remove" if done.dry_run else "removed"
    say_text(
        f"{verb} {done.objects} object{'s' if done.objects != 1 else ''} "
        f"({format_size(done.bytes)}) that none of {done.manifests} versions names"
    )


@data_app.command("inputs")
def inputs(ctx: typer.Context, run_id: str, output: OutputOption = OutputFormat.TABLE) -> None:
    """The dataset versions a run used."""
    found = datasets_of(ctx).inputs(run_id)
    if output is OutputFormat.JSON:
        print_json(found)
        return
    table = new_table(f"inputs of run {run_id}", "version", "as", "recorded")
    for item in found:
        add_row(table, item.ref, item.context, format_time(item.recorded_time, compact=True))
    console().print(table)


@data_app.command("diff")
def diff(
    ctx: typer.Context, before: str, after: str, output: OutputOption = OutputFormat.TABLE
) -> None:
    """Files added, removed and changed between two versions; rows and columns of tables."""
    found = datasets_of(ctx).diff(before, after)
    if output is OutputFormat.JSON:
        print_json(found)
        return
    _print_diff(found)


def _print_diff(found: DatasetDiff) -> None:
    say_text(f"{found.before} → {found.after}")
    if found.unchanged:
        say_text("no file differs")
        return
    table = new_table(None, "change", "path", "size before", "size after")
    for label, changes in (("added", found.added), ("removed", found.removed)):
        for change in changes:
            add_row(
                table,
                label,
                change.path,
                format_size(change.old.size) if change.old else MISSING,
                format_size(change.new.size) if change.new else MISSING,
            )
    for change in found.changed:
        assert change.old is not None and change.new is not None
        add_row(
            table,
            "changed",
            change.path,
            format_size(change.old.size),
            format_size(change.new.size),
        )
    console().print(table)
    for table_change in found.tables:
        before, after = table_change.rows_before, table_change.rows_after
        line = f"{table_change.path}: rows {before:,} → {after:,}"
        if table_change.columns_added:
            line += f"; columns added {', '.join(table_change.columns_added)}"
        if table_change.columns_removed:
            line += f"; columns removed {', '.join(table_change.columns_removed)}"
        for column, old, new in table_change.types_changed:
            line += f"; {column} {old} → {new}"
        say_text(line)
    if len(found.tables) < sum(
        1 for c in found.changed if c.path.lower().endswith((".parquet", ".csv"))
    ):
        warn("only the first changed tables were read for rows and columns")


from gnomon.data.cli_ingest import ingest  # noqa: E402

data_app.command("ingest")(ingest)

from gnomon.data.cli_profile import profile  # noqa: E402

data_app.command("profile")(profile)

from gnomon.data.cli_access import access_app  # noqa: E402

data_app.add_typer(access_app, name="access")
