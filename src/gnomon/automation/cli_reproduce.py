"""``gnomon reproduce RUN``: run a run again as recorded and compare its metrics."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from gnomon.automation import reproduce as reproducing
from gnomon.automation.reproduce import Progress, Reproduction
from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    client_of,
    console,
    format_value,
    hint,
    new_table,
    print_json,
    printable,
    say,
    warn,
)

SHOWN_DIFFERENCES = 20  # environment differences printed; the rest are counted


def reproduce(
    ctx: typer.Context,
    run_id: Annotated[
        str, typer.Argument(help="A run's id, or a pipeline run's.", show_default=False)
    ],
    rtol: Annotated[float, typer.Option(help="Relative tolerance per metric.")] = 1e-6,
    atol: Annotated[float, typer.Option(help="Absolute tolerance per metric.")] = 0.0,
    strict_env: Annotated[
        bool, typer.Option("--strict-env", help="Refuse when Python or a package differs.")
    ] = False,
    repo: Annotated[
        Path | None,
        typer.Option(help="Where the run's git repository is now (default: where it was)."),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds the script may run (default: no limit).")
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Re-run a run from its recorded commit, params and data; compare every metric.

    Exits 1 when a metric is outside the tolerance or missing from the re-run.
    """
    client = client_of(ctx)
    with _spinner() as progress:
        found = reproducing.reproduce(
            client,
            run_id,
            rtol=rtol,
            atol=atol,
            strict_env=strict_env,
            repo=repo,
            timeout=timeout,
            on_progress=progress,
        )
    if output is OutputFormat.JSON:
        print_json(found)
    else:
        _show(found, rtol, atol)
    if not found.passed:
        raise typer.Exit(1)


@contextmanager
def _spinner() -> Iterator[Progress]:
    """A spinner on stderr naming the stage (drawn only on a terminal): stdout stays the
    result's, JSON included."""
    status = Console(stderr=True).status("reproducing")
    with status:
        yield lambda stage: status.update(printable(stage))


def _show(found: Reproduction, rtol: float, atol: float) -> None:
    differences = found.environment_differences
    for difference in differences[:SHOWN_DIFFERENCES]:
        warn(f"environment: {printable(difference)}")
    if len(differences) > SHOWN_DIFFERENCES:
        warn(f"… and {len(differences) - SHOWN_DIFFERENCES} more environment differences")
    for difference in (*found.param_differences, *found.input_differences):
        warn(printable(difference))
    if found.param_differences:
        hint("a script's command-line arguments are not recorded: it was re-run without any")
    say(f"run {found.original_run_id} reproduced as run {found.new_run_id}")
    table = new_table(None, "metric", "original", "reproduced", "delta", "ok")
    for c in found.comparisons:
        table.add_row(
            printable(c.metric),
            format_value(c.original),
            format_value(c.reproduced),
            MISSING if c.delta is None else f"{c.delta:+.3g}",
            _mark(c.ok),
        )
    if found.comparisons:
        console().print(table)
    else:
        hint("the original run logged no metrics to compare")
    if found.outputs:
        outputs = new_table("step outputs", "step", "output", "original", "reproduced", "ok")
        for o in found.outputs:
            shown = MISSING if o.reproduced is None else o.reproduced[:16]
            outputs.add_row(
                printable(o.node), printable(o.output), o.original[:16], shown, _mark(o.ok)
            )
        console().print(outputs)
    _verdict(found, rtol, atol)


def _verdict(found: Reproduction, rtol: float, atol: float) -> None:
    if found.passed:
        say(f"reproduced: every metric within rtol={rtol:g}, atol={atol:g}", style="green")
        return
    metrics = sum(not c.ok for c in found.comparisons)
    outputs = sum(not o.ok for o in found.outputs)
    parts = []
    if metrics:
        noun = "metric" if metrics == 1 else "metrics"
        parts.append(f"{metrics} {noun} outside rtol={rtol:g}, atol={atol:g} or missing")
    if outputs:
        parts.append(f"{outputs} step {'output differs' if outputs == 1 else 'outputs differ'}")
    say(f"not reproduced: {' and '.join(parts)}", style="red")


def _mark(ok: bool) -> Text:
    return Text("✓", style="green") if ok else Text("✗", style="red")
