"""``gnomon experiments ...`` and ``gnomon runs ...``: thin commands over the ``Client``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

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
    printable,
    say,
    to_jsonable,
)
from gnomon.errors import InvalidInput, NotFound
from gnomon.tracking.cli_artifacts import artifacts_app
from gnomon.tracking.cli_history import metric_history
from gnomon.tracking.comparison import (
    CompareRow,
    compare_rows,
    distinct_run_ids,
)
from gnomon.tracking.tree import TreeRow, descendants, tree_rows

if TYPE_CHECKING:
    from gnomon.sdk import Client
    from gnomon.tracking.entities import Run

experiments_app = typer.Typer(help="Create, list, rename, delete and restore experiments.")
runs_app = typer.Typer(
    help="List, search, show, compare, delete and restore runs; chart a metric's history; "
    "list, show and download artifacts."
)
runs_app.add_typer(artifacts_app, name="artifacts")
runs_app.command("history")(metric_history)

MaxOption = Annotated[int, typer.Option("--max", "-n", help="Return at most this many runs.")]
ParentOption = Annotated[
    str | None,
    typer.Option(
        "--parent",
        help="Only the runs nested directly under this run id (its experiment by default).",
    ),
]
FlatOption = Annotated[
    bool, typer.Option("--flat", help="Keep the order found: no nesting under parents.")
]

# Metric columns a runs table shows; the rest are in `runs show` and --output json.
_MAX_METRIC_COLUMNS = 3
_DIFFERS = "bold yellow"
_BEST = " ★"
# `runs show` draws the runs below a run this far down, and at most this many.
MAX_TREE_DEPTH = 3
MAX_TREE_RUNS = 50


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
    experiment: Annotated[
        str | None, typer.Option("--experiment", "-e", help="Experiment name or id.")
    ] = None,
    parent: ParentOption = None,
    max_results: MaxOption = 100,
    flat: FlatOption = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List an experiment's runs, newest first, nested runs under their parents."""
    _search(ctx, [experiment] if experiment else [], None, None, max_results, parent, flat, output)


@runs_app.command("search")
def search_runs(
    ctx: typer.Context,
    experiment: Annotated[
        list[str] | None,
        typer.Option("--experiment", "-e", help="Experiment name or id; repeatable."),
    ] = None,
    filter_: Annotated[
        str | None,
        typer.Option("--filter", "-f", help="e.g. \"metrics.acc > 0.9 and params.model = 'rf'\""),
    ] = None,
    order_by: Annotated[
        list[str] | None,
        typer.Option("--order-by", help='e.g. "metrics.f1 DESC"; repeatable.'),
    ] = None,
    parent: ParentOption = None,
    max_results: MaxOption = 100,
    flat: FlatOption = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Search runs of experiments with the filter language, nested runs under their parents."""
    _search(ctx, experiment or [], filter_, order_by, max_results, parent, flat, output)


def _search(
    ctx: typer.Context,
    experiments: list[str],
    filter_: str | None,
    order_by: list[str] | None,
    max_results: int,
    parent: str | None,
    flat: bool,
    output: OutputFormat,
) -> None:
    client = client_of(ctx)
    parent_id = None
    if parent is not None:
        parent_run = client.get_run(parent)
        parent_id = parent_run.id
        experiments = experiments or [parent_run.experiment_id]
        # Appended, so a mistake in --filter is reported at its own positions.
        by_parent = f"parent_run_id = {quoted(parent_id)}"
        filter_ = f"{filter_} and {by_parent}" if filter_ and filter_.strip() else by_parent
    if not experiments:
        raise InvalidInput("name an experiment with --experiment, or a run with --parent")
    page = client.search_runs(experiments, filter_, order_by, max_results)
    runs = list(page.items)
    if output is OutputFormat.JSON:
        print_json([_run_json(run) for run in runs])
        return
    console().print(_runs_table(runs, flat=flat, listed_parent=parent_id))
    if page.next_page_token is not None:
        hint(f"showing the first {len(runs)} runs; pass --max to see more")


def quoted(value: str) -> str:
    """``value`` as a string of the filter language."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _runs_table(
    runs: Sequence[Run], *, flat: bool = False, listed_parent: str | None = None
) -> Table:
    """Runs in rows; unless ``flat``, each run's children under it, indented (a child whose
    parent is not listed is marked, unless that parent is ``listed_parent``)."""
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
    for row in [TreeRow(run) for run in runs] if flat else tree_rows(runs):
        run = row.run
        metrics = [_short(run.metrics.get(key)) for key in keys]
        table.add_row(
            run.id,
            _tree_name(row, listed_parent),
            run.status.value,
            format_time(run.start_time, compact=True),
            format_duration(run.duration_ms),
            *metrics,
        )
    return table


def _tree_name(row: TreeRow, listed_parent: str | None) -> Text:
    name = Text(row.prefix, style="dim") + Text(printable(row.run.name))
    parent = row.run.parent_run_id
    if row.orphan and parent is not None and parent != listed_parent:
        name.append(f" (child of {parent[:8]})", style="dim")  # its parent is not listed
    return name


def _short(value: float | None) -> str:
    return MISSING if value is None else f"{value:.4g}"


def _run_json(run: Run) -> dict[str, object]:
    data: dict[str, object] = to_jsonable(run)
    data["duration_ms"] = run.duration_ms
    return data


# -- runs: one run -------------------------------------------------------------------------


@runs_app.command("show")
def show_run(ctx: typer.Context, run_id: str, output: OutputOption = OutputFormat.TABLE) -> None:
    """Show a run: its info, parent, params, latest metrics, tags and the runs below it."""
    client = client_of(ctx)
    run = client.get_run(run_id)
    if output is OutputFormat.JSON:
        print_json(_run_json(run))
        return
    from gnomon.tracking.capture import TAG_PREFIX  # capture loads platform, subprocess...

    out = console()
    experiment = client.get_experiment(run.experiment_id).name
    out.print(_info_table(run, experiment, _parent_label(client, run)))
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
    _print_children(client, run)


def _parent_label(client: Client, run: Run) -> str:
    if run.parent_run_id is None:
        return MISSING
    try:
        parent = client.get_run(run.parent_run_id)
    except NotFound:  # not in this workspace's view any more: its id is all there is
        return run.parent_run_id
    return f"{parent.name} ({parent.id})"


def _print_children(client: Client, run: Run) -> None:
    """The runs below ``run`` in its experiment, as a tree, oldest first at each level."""
    from rich.tree import Tree

    def find_children(parent_ids: Sequence[str], limit: int) -> Sequence[Run]:
        within = ", ".join(quoted(parent_id) for parent_id in parent_ids)
        flt = f"parent_run_id IN ({within})"
        return client.search_runs(run.experiment_id, flt, ["start_time ASC"], limit).items

    found, more = descendants(find_children, run.id, MAX_TREE_DEPTH, MAX_TREE_RUNS)
    if not found:
        return
    tree = Tree(Text("Child runs", style="bold"), guide_style="dim")
    nodes = {run.id: tree}
    for child in found:  # level by level: a parent is always placed before its children
        label = Text(printable(child.name)) + Text(f"  {child.id}  {child.status.value}", "dim")
        nodes[child.id] = nodes[child.parent_run_id or run.id].add(label)
    console().print(tree)
    if more:
        hint(
            f"showing {len(found)} runs, down to level {MAX_TREE_DEPTH}; "
            f"gnomon runs list --parent RUN_ID lists all the children of a run"
        )


def _info_table(run: Run, experiment_name: str, parent: str) -> Table:
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
        "parent run": parent,
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


@runs_app.command("compare")
def compare_runs(
    ctx: typer.Context,
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Params and metrics side by side; differing rows highlighted, best metrics starred."""
    ids = distinct_run_ids(run_ids)
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
