"""``gnomon monitor ...``: monitors from the shell, thin commands over ``client.monitors``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    client_of,
    console,
    format_time,
    new_table,
    print_json,
    say,
)
from gnomon.errors import InvalidInput
from gnomon.monitoring.cli_alerts import alert_app, channel_app, silence_app
from gnomon.monitoring.entities import (
    Monitor,
    MonitorSpec,
    ReferenceSpec,
    WindowResult,
    parse_duration,
)
from gnomon.progress import progress_bar
from gnomon.tracking.chart import line_chart, number

monitor_app = typer.Typer(
    help="Watch deployments: drift, data quality, outliers and live performance; alerts."
)
monitor_app.add_typer(alert_app, name="alert")
monitor_app.add_typer(channel_app, name="channel")
monitor_app.add_typer(silence_app, name="silence")

Name = Annotated[str, typer.Argument(help="The monitor's name.", show_default=False)]
DEFAULT_FIGURE = "drift.share"


@monitor_app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    deployment: Annotated[str, typer.Option("--deployment", "-d", help="The deployment watched.")],
    reference: Annotated[
        str,
        typer.Option(
            help="training (the model's training data), dataset:NAME@V or records:START_MS..END_MS."
        ),
    ] = "training",
    window: Annotated[str | None, typer.Option(help="A time window: 15m, 1h, 1d.")] = None,
    rows: Annotated[int | None, typer.Option(help="A count window: every N records.")] = None,
    outcome_delay: Annotated[
        str, typer.Option(help="Wait this long after a window for its outcomes: 0, 30m, 1d.")
    ] = "0",
    segment: Annotated[
        str | None, typer.Option(help="A categorical input: performance per value.")
    ] = None,
    task: Annotated[str, typer.Option(help="auto, classification or regression.")] = "auto",
    column: Annotated[
        list[str] | None, typer.Option(help="A column to watch (default: every input).")
    ] = None,
    drift: Annotated[
        str | None,
        typer.Option(help='Drift settings as JSON: {"numeric_test": "ks", "alpha": 0.01}.'),
    ] = None,
    schedule: Annotated[
        str | None, typer.Option(help="Run every 15m, 1h...: in a server or gnomon worker.")
    ] = None,
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Create a monitor of a deployment against its reference."""
    if window is not None and rows is not None:
        raise InvalidInput("give --window or --rows, not both")
    spec = MonitorSpec(
        deployment=deployment,
        reference=ReferenceSpec.parse(reference),
        window_s=None if rows is not None else parse_duration(window or "1h", "window"),
        window_rows=rows,
        outcome_delay_s=parse_duration(outcome_delay, "outcome delay"),
        segment=segment,
        task=task,
        columns=tuple(column or ()),
        drift=_json_object(drift, "--drift"),
        schedule_s=None if schedule is None else parse_duration(schedule, "schedule"),
        description=description,
    )
    created = client_of(ctx).monitors.create(name, spec)
    if output is OutputFormat.JSON:
        print_json(_monitor_dict(created))
        return
    say(f"Created monitor {created.name} of deployment {created.spec.deployment}")


@monitor_app.command("list")
def list_monitors(ctx: typer.Context, output: OutputOption = OutputFormat.TABLE) -> None:
    """The workspace's monitors."""
    found = client_of(ctx).monitors.list()
    if output is OutputFormat.JSON:
        print_json([_monitor_dict(m) for m in found])
        return
    table = new_table(None, "name", "deployment", "window", "reference", "evaluated to", "schedule")
    for m in found:
        table.add_row(
            m.name,
            m.spec.deployment,
            _window(m),
            str(m.spec.reference),
            format_time(m.watermark_ms) if m.watermark_ms else MISSING,
            f"every {m.spec.schedule_s}s" if m.spec.schedule_s else "on demand",
        )
    console().print(table)


@monitor_app.command("run")
def run(
    ctx: typer.Context,
    name: Name,
    until_ms: Annotated[
        int | None, typer.Option(help="Evaluate windows ending by then (default: now).")
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Evaluate every window that closed since the last run."""
    with progress_bar(f"evaluating {name}", unit="windows") as advance:
        done = client_of(ctx).monitors.run(name, until_ms=until_ms, on_progress=advance)
    if output is OutputFormat.JSON:
        print_json(
            {
                "monitor": done.monitor,
                "watermark_ms": done.watermark_ms,
                "skipped": done.skipped,
                "windows": [_window_dict(w) for w in done.windows],
            }
        )
        return
    if done.skipped:
        say(f"Skipped {name}: {done.skipped}")
        return
    say(f"Evaluated {len(done.windows)} window{'s' * (len(done.windows) != 1)} of {name}")
    if done.windows:
        _latest(done.windows[-1])


@monitor_app.command("show")
def show(
    ctx: typer.Context,
    name: Name,
    figure: Annotated[
        str, typer.Option(help="The figure charted over windows: drift.share, outliers.rate...")
    ] = DEFAULT_FIGURE,
    last: Annotated[int, typer.Option(min=1, max=10_000, help="Windows charted.")] = 48,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """The monitor, its latest window per column, and a chart of one figure over windows."""
    client = client_of(ctx)
    monitor = client.monitors.get(name)
    windows = client.monitors.results(name, limit=last)
    if output is OutputFormat.JSON:
        print_json({**_monitor_dict(monitor), "windows": [_window_dict(w) for w in windows]})
        return
    say(
        f"{monitor.name}: deployment {monitor.spec.deployment}, {_window(monitor)} windows "
        f"against {monitor.spec.reference}"
    )
    if not windows:
        say("No window evaluated yet: gnomon monitor run " + name)
        return
    _chart(windows, figure)
    filled = [w for w in windows if w.rows]
    if filled:
        _latest(filled[-1])


@monitor_app.command("report")
def report(
    ctx: typer.Context,
    name: Name,
    out: Annotated[Path, typer.Option("--out", help="The HTML file written.")] = Path(
        "monitor-report.html"
    ),
    last: Annotated[int, typer.Option(min=1, max=10_000, help="Windows in the report.")] = 200,
) -> None:
    """A self-contained HTML report: drift over time, histograms, quality, performance."""
    page = client_of(ctx).monitors.report_html(name, limit=last)
    out.write_text(page, encoding="utf-8")
    say(f"Wrote {out}")


@monitor_app.command("delete")
def delete(ctx: typer.Context, name: Name) -> None:
    """Delete a monitor with its results, alert rules and events."""
    client_of(ctx).monitors.delete(name)
    say(f"Deleted monitor {name}")


def _chart(windows: list[WindowResult], figure: str) -> None:
    xs = list(range(1, len(windows) + 1))
    ys = [_value(w.figure(figure)) for w in windows]
    if not any(math.isfinite(y) for y in ys):
        say(f"{figure}: no value in these {len(windows)} windows")
        return
    out = console()
    out.print(Text(f"{figure} over the last {len(windows)} windows", style="bold"), soft_wrap=True)
    chart = line_chart(xs, ys, min(out.width, 100), 10)
    for margin, plot in zip(chart.margin, chart.plot, strict=True):
        out.print(Text(margin, style="dim") + Text(plot, style="cyan"), soft_wrap=True)
    for line in chart.footer:
        out.print(Text(line, style="dim"), soft_wrap=True)
    last = windows[-1]
    say(f"last {_shown(last.figure(figure))} for the window ending {format_time(last.end_ms)}")


def _latest(window: WindowResult) -> None:
    say(
        f"Window {format_time(window.start_ms)} to {format_time(window.end_ms)}: "
        f"{window.rows} records"
    )
    drift = window.details.get("drift") or {}
    quality = (window.details.get("quality") or {}).get("columns", {})
    table = new_table(
        None,
        "column",
        "test",
        "score",
        "p adj.",
        "status",
        "nulls",
        "out of range",
        "unseen",
        "wrong type",
    )
    for column in drift.get("columns", []):
        counts = quality.get(column["column"], {})
        table.add_row(
            column["column"],
            column["test"],
            _shown(column.get("statistic")),
            _shown(column.get("adjusted_p")),
            column["status"],
            *(
                str(counts.get(k, MISSING))
                for k in ("nulls", "out_of_range", "unseen", "type_errors")
            ),
        )
    console().print(table)
    if drift:
        say(
            f"drift share {_shown(drift.get('drift_share'))} ({drift.get('correction')} "
            f"correction); dataset drift: {'yes' if drift.get('dataset_drift') else 'no'}"
        )
    rate = window.figure("outliers.rate")
    if rate is not None:
        say(f"outlier rate {_shown(rate)}")
    performance = window.details.get("performance") or {}
    if performance.get("outcomes"):
        overall = performance.get("overall", {})
        say(
            f"performance on {performance['outcomes']} outcomes: "
            + ", ".join(f"{k} {_shown(v)}" for k, v in overall.items())
        )
        for value, found in (performance.get("segments") or {}).items():
            metrics = ", ".join(f"{k} {_shown(v)}" for k, v in found["metrics"].items())
            say(f"  {performance['segment']}={value} ({found['outcomes']}): {metrics}")


def _value(value: float | None) -> float:
    return math.nan if value is None else value


def _shown(value: Any) -> str:
    return MISSING if value is None else number(float(value))


def _window(monitor: Monitor) -> str:
    spec = monitor.spec
    return f"{spec.window_rows} records" if spec.window_rows else f"{spec.window_s}s"


def _json_object(text: str | None, option: str) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        found = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{option} must be a JSON object: {exc}") from None
    if not isinstance(found, dict):
        raise InvalidInput(f"{option} must be a JSON object, got {text!r}")
    return found


def _monitor_dict(monitor: Monitor) -> dict[str, Any]:
    return {
        "name": monitor.name,
        "spec": monitor.spec.to_dict(),
        "watermark_ms": monitor.watermark_ms,
        "last_run_ms": monitor.last_run_ms,
        "created_by": monitor.created_by,
        "created_time": monitor.created_time,
    }


def _window_dict(window: WindowResult) -> dict[str, Any]:
    return {
        "start_ms": window.start_ms,
        "end_ms": window.end_ms,
        "rows": window.rows,
        "figures": window.values,
        "details": dict(window.details),
    }


__all__ = ["monitor_app"]
