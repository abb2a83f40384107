"""``gnomon features ...``: apply feature definitions from a repo, list, show and diff them,
and materialise them. A repo's code runs here, beside the database or through a server."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    client_of,
    console,
    format_time,
    new_table,
    print_json,
    printable,
    say,
    warn,
)
from gnomon.errors import InvalidInput
from gnomon.features.entities import LABELS, Action, ApplyPlan, Change, DefinitionVersion
from gnomon.features.registry_api import FeatureRegistryApi
from gnomon.features.repo import load_definitions

features_app = typer.Typer(
    help="Feature definitions: apply a repo, list, show, diff; materialise them online."
)

RepoPath = Annotated[
    Path,
    typer.Argument(help="A .py file of definitions, or a folder of them.", show_default=False),
]
Prune = Annotated[
    bool, typer.Option("--prune", help="Also remove the applied definitions PATH leaves out.")
]
KindOption = Annotated[
    str | None, typer.Option("--kind", "-k", help="entity, view or service.", show_default=False)
]
SHOWN_VERSIONS = 20


@features_app.command("apply")
def apply(
    ctx: typer.Context,
    path: RepoPath,
    force: Annotated[
        bool, typer.Option("--force", help="Apply even changes that break what uses them.")
    ] = False,
    prune: Prune = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Apply the definitions of PATH: a new version of each new or changed one.

    Changes that break feature services or join keys are refused unless --force."""
    registry = _registry(ctx)
    plan = registry.apply(load_definitions(path), force=force, prune=prune)
    if output is OutputFormat.JSON:
        print_json(plan)
        return
    _print_changes(plan, verbose=False)
    for problem in plan.breaking:
        warn(f"applied with --force: {printable(problem)}")
    say(f"applied: {_summary(plan)}")


@features_app.command("diff")
def diff(
    ctx: typer.Context,
    path: RepoPath,
    prune: Prune = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """What `apply PATH` would change, and what it would break; changes nothing."""
    plan = _registry(ctx).diff(load_definitions(path), prune=prune)
    if output is OutputFormat.JSON:
        print_json(plan)
        return
    _print_changes(plan, verbose=True)
    for problem in plan.breaking:
        say(f"breaks: {printable(problem)}", style="red")
    if plan.breaking:
        say("apply refuses these changes unless --force", style="red")
    say(f"apply would make: {_summary(plan)}")


@features_app.command("list")
def list_definitions(
    ctx: typer.Context, kind: KindOption = None, output: OutputOption = OutputFormat.TABLE
) -> None:
    """The workspace's current definitions: kind, name, version, last updated."""
    found = _registry(ctx).list(kind)
    if output is OutputFormat.JSON:
        print_json([_summary_json(d) for d in found])
        return
    table = new_table(None, "kind", "name", "version", "updated", "by")
    for d in found:
        _add_row(table, d.kind, d.name, str(d.version), format_time(d.updated_time), d.updated_by)
    console().print(table)


@features_app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A definition's name.", show_default=False)],
    kind: KindOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """A definition: its current spec and its versions (of every kind with that name)."""
    registry = _registry(ctx)
    found = [registry.get(kind, name)] if kind is not None else registry.find(name)
    shown = [(d, registry.versions(d.kind, d.name, SHOWN_VERSIONS)) for d in found]
    if output is OutputFormat.JSON:
        print_json([{**_summary_json(d), "versions": _versions_json(v)} for d, v in shown])
        return
    for definition, versions in shown:
        say(printable(f"{LABELS[definition.kind]} {definition.name}"), style="bold")
        say(f"  version {definition.version}, updated {format_time(definition.updated_time)}")
        say(printable(json.dumps(definition.spec, indent=2)))
        table = new_table(None, "version", "created", "by", "digest")
        for v in versions:
            _add_row(
                table, str(v.version), format_time(v.created_time), v.created_by, v.digest[:12]
            )
        console().print(table)


@features_app.command("materialize")
def materialize(
    ctx: typer.Context,
    views: Annotated[
        list[str] | None, typer.Argument(help="Views to materialise (default: all).")
    ] = None,
    start: Annotated[
        datetime | None, typer.Option(help="Only rows at or after this time (UTC).")
    ] = None,
    end: Annotated[datetime | None, typer.Option(help="Only rows at or before this time.")] = None,
    incremental: Annotated[
        bool, typer.Option("--incremental", help="Only rows newer than the last run's.")
    ] = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Write the latest value per entity of each view into the online store."""
    if incremental and (start is not None or end is not None):
        raise InvalidInput("give --incremental, or --start/--end, not both")
    features: Any = client_of(ctx).features
    done = features.materialize(
        views or None,
        start=_utc(start),
        end=_utc(end),
        incremental=incremental,
        progress=output is OutputFormat.TABLE,
    )
    if output is OutputFormat.JSON:
        print_json([dataclasses.asdict(m) for m in done])
        return
    table = new_table(None, "view", "rows read", "entities", "watermark", "seconds")
    for m in done:
        watermark = format_time(m.watermark_ms) if m.watermark_ms is not None else MISSING
        _add_row(
            table, m.view, str(m.rows_read), str(m.entities_written), watermark, f"{m.seconds:.2f}"
        )
    console().print(table)


def _utc(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _registry(ctx: typer.Context) -> FeatureRegistryApi:
    found: FeatureRegistryApi = client_of(ctx).feature_registry  # type: ignore[attr-defined]
    return found


def _print_changes(plan: ApplyPlan, *, verbose: bool) -> None:
    columns = ["kind", "name", "change", "version"] + (["what"] if verbose else [])
    table = new_table(None, *columns)
    for change in plan.changes:
        cells = [change.kind, change.name, change.action, _version(change)]
        _add_row(table, *cells, *(["; ".join(change.details)] if verbose else []))
    console().print(table)


def _version(change: Change) -> str:
    if change.action in ("updated", "removed"):
        after = MISSING if change.version is None else str(change.version)
        return f"{change.previous} -> {after}"
    return str(change.version)


def _summary(plan: ApplyPlan) -> str:
    actions: tuple[Action, ...] = ("created", "updated", "unchanged", "removed")
    return ", ".join(f"{plan.count(a)} {a}" for a in actions if plan.count(a) or a != "removed")


def _summary_json(definition: Any) -> dict[str, Any]:
    return {
        "kind": definition.kind,
        "name": definition.name,
        "version": definition.version,
        "updated_time": definition.updated_time,
        "updated_by": definition.updated_by,
        "digest": definition.digest,
        "spec": definition.spec,
    }


def _versions_json(versions: list[DefinitionVersion]) -> list[dict[str, Any]]:
    return [
        {
            "version": v.version,
            "created_time": v.created_time,
            "created_by": v.created_by,
            "digest": v.digest,
        }
        for v in versions
    ]


def _add_row(table: Table, *cells: str) -> None:
    table.add_row(*(printable(cell) for cell in cells))
