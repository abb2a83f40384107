"""``gnomon runs history RUN KEY...``: a metric's history as a line chart in the terminal."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    client_of,
    console,
    print_json,
    say,
)
from gnomon.errors import InvalidInput, NotFound
from gnomon.suggestions import did_you_mean
from gnomon.tracking.chart import line_chart, number

if TYPE_CHECKING:
    from rich.console import Console

    from gnomon.tracking.entities import Metric

MAX_KEYS = 20
DEFAULT_WIDTH = 100  # at most; narrower terminals get their own width
_LINE = "cyan"


def metric_history(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id.", show_default=False)],
    keys: Annotated[
        list[str], typer.Argument(help="Metric keys: one chart each.", show_default=False)
    ],
    width: Annotated[
        int | None,
        typer.Option(
            min=20,
            max=400,
            help=f"Chart width in characters (default: the terminal's, at most {DEFAULT_WIDTH}).",
        ),
    ] = None,
    height: Annotated[int, typer.Option(min=3, max=100, help="Chart height in lines.")] = 12,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Chart metrics' histories by step, with their min, max and last values.

    --output json prints every point instead.
    """
    unique = list(dict.fromkeys(keys))
    if len(unique) > MAX_KEYS:
        raise InvalidInput(f"runs history charts at most {MAX_KEYS} metrics at once")
    client = client_of(ctx)
    run = client.get_run(run_id)
    histories = {key: client.get_metric_history(run.id, key) for key in unique}
    for key, points in histories.items():
        if not points:
            close = did_you_mean(key, run.metrics)
            raise NotFound(f"run {run.id!r} has no metric {key!r}{close}", {"key": key})
    if output is OutputFormat.JSON:
        print_json([point for points in histories.values() for point in points])
        return
    out = console()
    chart_width = width or min(out.width, DEFAULT_WIDTH)
    for index, (key, points) in enumerate(histories.items()):
        if index:
            out.print()
        _print_history(out, key, points, chart_width, height)


def _print_history(
    out: Console, key: str, points: Sequence[Metric], width: int, height: int
) -> None:
    steps = [p.step for p in points]
    values = [p.value for p in points]
    # Points logged without a step all sit at step 0: draw them in the order logged instead.
    by_order = len(points) > 1 and min(steps) == max(steps)
    xs = list(range(len(points))) if by_order else steps
    title = Text(key, style="bold")
    axis = "point" if by_order else "step"
    span = f"{axis}s {xs[0]} to {xs[-1]}" if len(points) > 1 else f"step {steps[0]}"
    title.append(f"  {len(points)} point{'s' * (len(points) != 1)}, {span}", style="dim")
    out.print(title, soft_wrap=True)
    if any(math.isfinite(v) for v in values):
        chart = line_chart(xs, values, width, height)
        for margin, plot in zip(chart.margin, chart.plot, strict=True):
            out.print(Text(margin, style="dim") + Text(plot, style=_LINE), soft_wrap=True)
        for line in chart.footer:
            out.print(Text(line, style="dim"), soft_wrap=True)
    say(_summary(points, axis, xs), style=None)
    left_out = _left_out(values)
    if left_out:
        say(left_out, style="dim")


def _summary(points: Sequence[Metric], axis: str, xs: Sequence[int]) -> str:
    ordered = [(p.value, x) for p, x in zip(points, xs, strict=True) if not math.isnan(p.value)]
    last = f"last {number(points[-1].value)} at {axis} {xs[-1]}"
    if not ordered:
        return f"min {MISSING}   max {MISSING}   {last}"
    low = min(ordered, key=lambda pair: pair[0])
    high = max(ordered, key=lambda pair: pair[0])
    return (
        f"min {number(low[0])} at {axis} {low[1]}   max {number(high[0])} at {axis} {high[1]}   "
        f"{last}"
    )


def _left_out(values: Sequence[float]) -> str:
    nan = sum(1 for v in values if math.isnan(v))
    infinite = sum(1 for v in values if math.isinf(v))
    parts = [f"{nan} NaN"] * bool(nan) + [f"{infinite} infinite"] * bool(infinite)
    if not parts:
        return ""
    return f"not drawn: {' and '.join(parts)} value{'s' * (nan + infinite != 1)}"
