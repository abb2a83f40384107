"""``gnomon experiments ...`` and ``gnomon runs ...``: thin commands over the ``Client``."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    client_of,
    console,
    every_page,
    format_duration,
    format_time,
    format_value,
    hint,
    new_table,
    print_json,
    say,
    to_jsonable,
)
from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    from gnomon.tracking.entities import Run

experiments_app = typer.Typer(help="Create, list, rename, delete and restore experiments.")
runs_app = typer.Typer(help="List, search, show, compare, delete and restore runs.")

ExperimentOption = Annotated[str, typer.Option("--experiment", "-e", help="Experiment name or id.")]
MaxOption = Annotated[int, typer.Option("--max", "-n", help="Return at most this many runs.")]

# Metric columns a runs table shows; the rest are in `runs show` and --output json.
_MAX_METRIC_COLUMNS = 3
_DIFFERS = "bold yellow"
_BEST = " ★"


# -- experiments ---------------------------------------------------------------------------


@experiments_app.command("list")
def list_experiments(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include deleted experiments.")] = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List the workspace's experiments."""
    client = client_of(ctx)
    found = every_page(
        lambda token: client.list_experiments(include_deleted=all_, page_token=token)
    )
    if output is OutputFormat.JSON:
        print_json(found)
        return
    table = new_table(None, "id", "name", "created")
    if all_:
        table.add_column("lifecycle")
    for exp in found:
        cells = [exp.id, exp.name, format_time(exp.created_time)]
        table.add_row(*cells, *([exp.lifecycle.value] if all_ else []))
    console().print(table)


@experiments_app.command("create")
def create_experiment(ctx: typer.Context, name: str) -> None:
    """Create experiment NAME."""
    exp = client_of(ctx).create_experiment(name)
    say(f"created experiment {exp.name!r} ({exp.id})")


@experiments_app.command("rename")
def rename_experiment(ctx: typer.Context, old: str, new: str) -> None:
    """Rename experiment OLD (name or id) to NEW."""
    exp = client_of(ctx).rename_experiment(old, new)
    say(f"renamed experiment {old!r} to {exp.name!r}")


@experiments_app.command("delete")
def delete_experiment(ctx: typer.Context, name_or_id: str) -> None:
    """Delete an experiment (it can be restored)."""
    exp = client_of(ctx).delete_experiment(name_or_id)
    say(f"deleted experiment {exp.name!r} ({exp.id})")


@experiments_app.command("restore")
def restore_experiment(ctx: typer.Context, name_or_id: str) -> None:
    """Restore a deleted experiment."""
    exp = client_of(ctx).restore_experiment(name_or_id)
    say(f"restored experiment {exp.name!r} ({exp.id})")


# -- runs: listing -------------------------------------------------------------------------


@runs_app.command("list")
def list_runs(
    ctx: typer.Context,
    experiment: ExperimentOption,
    max_results: MaxOption = 100,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List an experiment's runs, newest first."""
    page = client_of(ctx).search_runs(experiment, max_results=max_results)
    _print_runs(list(page.items), page.next_page_token is not None, output)


@runs_app.command("search")
def search_runs(
    ctx: typer.Context,
    experiment: Annotated[
        list[str], typer.Option("--experiment", "-e", help="Experiment name or id; repeatable.")
    ],
    filter_: Annotated[
        str | None,
        typer.Option("--filter", "-f", help="e.g. \"metrics.acc > 0.9 and params.model = 'rf'\""),
    ] = None,
    order_by: Annotated[
        list[str] | None,
        typer.Option("--order-by", help='e.g. "metrics.f1 DESC"; repeatable.'),
    ] = None,
    max_results: MaxOption = 100,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Search runs of one or more experiments with the filter language."""
    page = client_of(ctx).search_runs(experiment, filter_, order_by, max_results)
    _print_runs(list(page.items), page.next_page_token is not None, output)


def _print_runs(runs: list[Run], more: bool, output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        print_json([_run_json(run) for run in runs])
        return
    console().print(_runs_table(runs))
    if more:
        hint(f"showing the first {len(runs)} runs; pass --max to see more")


def _runs_table(runs: Sequence[Run]) -> Table:
    keys = sorted({key for run in runs for key in run.metrics})[:_MAX_METRIC_COLUMNS]
    table = new_table(None)
    # A folded id cannot be pasted into `runs show`; the other columns may fold instead.
    table.add_column("run id", no_wrap=True, min_width=32)
    table.add_column("name", min_width=10, overflow="fold")
    table.add_column("status")
    table.add_column("started", min_width=10)
    table.add_column("duration", no_wrap=True)
    for key in keys:
        table.add_column(key, min_width=6, overflow="fold")
    for run in runs:
        metrics = [_short(run.metrics.get(key)) for key in keys]
        table.add_row(
            run.id,
            run.name,
            run.status.value,
            format_time(run.start_time, compact=True),
            format_duration(run.duration_ms),
            *metrics,
        )
    return table


def _short(value: float | None) -> str:
    return MISSING if value is None else f"{value:.4g}"


def _run_json(run: Run) -> dict[str, object]:
    data: dict[str, object] = to_jsonable(run)
    data["duration_ms"] = run.duration_ms
    return data


# -- runs: one run -------------------------------------------------------------------------


@runs_app.command("show")
def show_run(ctx: typer.Context, run_id: str, output: OutputOption = OutputFormat.TABLE) -> None:
    """Show a run: its info, params, latest metrics and tags."""
    client = client_of(ctx)
    run = client.get_run(run_id)
    if output is OutputFormat.JSON:
        print_json(_run_json(run))
        return
    from gnomon.tracking.capture import TAG_PREFIX  # capture loads platform, subprocess...

    out = console()
    out.print(_info_table(run, client.get_experiment(run.experiment_id).name))
    user_tags = {k: v for k, v in run.tags.items() if not k.startswith(TAG_PREFIX)}
    system_tags = {k: v for k, v in run.tags.items() if k.startswith(TAG_PREFIX)}
    for title, values in (
        ("Params", run.params),
        ("Metrics (latest)", run.metrics),
        ("Tags", user_tags),
        ("System tags", system_tags),
    ):
        if values:
            out.print(_key_value_table(title, values))


def _info_table(run: Run, experiment_name: str) -> Table:
    table = new_table(f"Run {run.name}", "field", "value")
    table.columns[1].overflow = "fold"  # show whole artifact paths, to copy them
    rows = {
        "id": run.id,
        "experiment": f"{experiment_name} ({run.experiment_id})",
        "status": run.status.value,
        "user": run.user,
        "started": format_time(run.start_time),
        "ended": format_time(run.end_time),
        "duration": format_duration(run.duration_ms),
        "parent run": run.parent_run_id or MISSING,
        "lifecycle": run.lifecycle.value,
        "artifacts": run.artifact_uri,
        "description": run.description or MISSING,
    }
    for key, value in rows.items():
        table.add_row(key, value)
    return table


def _key_value_table(title: str, values: dict[str, str] | dict[str, float]) -> Table:
    table = new_table(title, "key", "value")
    for key in sorted(values):
        table.add_row(key, format_value(values[key]))
    return table


@runs_app.command("delete")
def delete_run(ctx: typer.Context, run_id: str) -> None:
    """Delete a run (it can be restored)."""
    run = client_of(ctx).delete_run(run_id)
    say(f"deleted run {run.name!r} ({run.id})")


@runs_app.command("restore")
def restore_run(ctx: typer.Context, run_id: str) -> None:
    """Restore a deleted run."""
    run = client_of(ctx).restore_run(run_id)
    say(f"restored run {run.name!r} ({run.id})")


# -- runs: compare -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompareRow:
    """One param or metric across runs; ``best`` holds the run ids with the best value."""

    section: str
    key: str
    values: dict[str, str | float | None]
    differs: bool
    best: list[str] = field(default_factory=list)


@runs_app.command("compare")
def compare_runs(
    ctx: typer.Context,
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Params and metrics side by side; differing rows highlighted, best metrics starred."""
    ids = list(dict.fromkeys(run_ids))  # the same run twice adds nothing to compare
    if len(ids) < 2:
        raise InvalidInput("runs compare needs at least two different run ids")
    client = client_of(ctx)
    runs = [client.get_run(run_id) for run_id in ids]
    rows = compare_rows(runs)
    if output is OutputFormat.JSON:
        print_json({"runs": [{"id": r.id, "name": r.name} for r in runs], "rows": rows})
        return
    out = console()
    for section in ("params", "metrics"):
        section_rows = [row for row in rows if row.section == section]
        if section_rows:
            out.print(_compare_table(section.capitalize(), runs, section_rows))


def compare_rows(runs: Sequence[Run]) -> list[CompareRow]:
    """Every param and metric key of ``runs``, with each run's value (``None`` when unset)."""
    rows = []
    for key in sorted({k for run in runs for k in run.params}):
        values: dict[str, str | float | None] = {r.id: r.params.get(key) for r in runs}
        rows.append(CompareRow("params", key, values, values_differ(values.values())))
    for key in sorted({k for run in runs for k in run.metrics}):
        metrics = {r.id: r.metrics.get(key) for r in runs}
        differs = values_differ(metrics.values())
        best = _best_runs(key, metrics) if differs else []
        rows.append(CompareRow("metrics", key, dict(metrics), differs, best))
    return rows


def values_differ(values: Iterable[object]) -> bool:
    # repr() makes NaN equal to NaN, so two runs that both logged NaN do not "differ".
    return len({repr(v) for v in values}) > 1


# Metric names whose smaller values are better; anything else is taken as higher-is-better.
_LOWER_IS_BETTER = frozenset(
    {"loss", "error", "err", "mse", "mae", "rmse", "mape", "latency", "time", "duration"}
)


def lower_is_better(metric: str) -> bool:
    """Whether smaller values of ``metric`` are better, guessed from words in its name."""
    return bool(_LOWER_IS_BETTER & set(re.split(r"[^a-z0-9]+", metric.lower())))


def _best_runs(key: str, values: dict[str, float | None]) -> list[str]:
    usable = {run_id: v for run_id, v in values.items() if v is not None and not math.isnan(v)}
    if not usable:
        return []
    lower = lower_is_better(key)
    best = min(usable.values()) if lower else max(usable.values())
    return [run_id for run_id, v in usable.items() if v == best]


def _compare_table(title: str, runs: Sequence[Run], rows: Sequence[CompareRow]) -> Table:
    table = new_table(title, "key")
    for run in runs:
        table.add_column(f"{run.name}\n{run.id[:8]}")
    return add_compare_rows(table, runs, rows)


def add_compare_rows(table: Table, runs: Sequence[Run], rows: Sequence[CompareRow]) -> Table:
    """One line per row after the key, a cell per run: differing rows highlighted, the best
    values starred."""
    for row in rows:
        cells = [
            format_value(row.values[run.id]) + (_BEST if run.id in row.best else "") for run in runs
        ]
        table.add_row(row.key, *cells, style=_DIFFERS if row.differs else None)
    return table
