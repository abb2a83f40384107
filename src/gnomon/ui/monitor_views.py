"""What the monitor page shows of a monitor's stored windows: charts over time (drift per
column, dataset drift, data quality, outliers, performance per arm and per segment) and one
chosen window in detail. Windows' details are stored JSON: a part of another shape shows as
missing, never as an error. The overlaid histograms are the HTML report's own
(:mod:`gnomon.monitoring.report_html`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from gnomon.monitoring.entities import WindowResult
from gnomon.monitoring.performance import CLASSIFICATION, REGRESSION
from gnomon.monitoring.report_html import histogram_svg
from gnomon.ui.time_charts import has_points, time_chart

MAX_LINES = 20  # columns charted in the drift chart, drifting ones first
MAX_SEGMENT_LINES = 10
MAX_ROWS = 50  # columns and segments in a window's tables
PREFERRED = ("accuracy", "f1", "roc_auc", "precision", "recall", "rmse", "mae")
QUALITY = {
    "null_rate": "nulls",
    "out_of_range_rate": "out of range",
    "unseen_rate": "unseen categories",
    "type_error_rate": "type errors",
}


def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def listed(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


class Timeline:
    """The charted windows, oldest first, with their figures by name."""

    def __init__(self, windows: Sequence[WindowResult]) -> None:
        self.windows = windows
        self.times = [w.start_ms for w in windows]
        self.values = [w.values for w in windows]

    def series(self, name: str, scale: float = 1.0) -> list[float | None]:
        found = (v.get(name) for v in self.values)
        return [None if value is None else value * scale for value in found]

    def names(self, prefix: str, suffix: str = "") -> list[str]:
        """What lies between ``prefix`` and ``suffix`` in figure names, newest first."""
        found: dict[str, None] = {}
        for values in reversed(self.values):
            for name in values:
                if name.startswith(prefix) and name.endswith(suffix) and len(name) > len(prefix):
                    found[name[len(prefix) : len(name) - len(suffix)]] = None
        return list(found)

    def chart(self, chart_id: str, title: str, lines: Mapping[str, list[float | None]]) -> Any:
        return time_chart(chart_id, {k: (self.times, v) for k, v in lines.items()}, title=title)


def timeline_charts(windows: Sequence[WindowResult], drifting: Sequence[str]) -> list[Any]:
    """The charts that have something to draw; ``drifting``: columns charted first."""
    t = Timeline(windows)
    columns = sorted(t.names("drift.score."), key=lambda c: (c not in drifting, c))
    dataset = {
        "share of drifting columns": t.series("drift.share"),
        "prediction drift score": t.series("drift.prediction.score"),
    }
    charts = [
        t.chart(
            "drift",
            "Drift score per column",
            {c: t.series(f"drift.score.{c}") for c in columns[:MAX_LINES]},
        ),
        t.chart("dataset-drift", "Dataset and prediction drift", dataset),
        t.chart("quality", "Data quality: share of rows (%)", _quality_lines(t)),
        t.chart("outliers", "Outlier rate (%)", {"outliers": t.series("outliers.rate", 100)}),
    ]
    metric = main_metric(t)
    if metric is not None:
        arms = {"overall": t.series(f"performance.{metric}")}
        for arm in t.names("performance.arm.", f".{metric}"):
            arms[arm] = t.series(f"performance.arm.{arm}.{metric}")
        segments = {
            s: t.series(f"performance.segment.{s}.{metric}")
            for s in t.names("performance.segment.", f".{metric}")[:MAX_SEGMENT_LINES]
        }
        charts.append(t.chart("performance", f"Performance per arm: {metric}", arms))
        charts.append(t.chart("segments", f"Performance per segment: {metric}", segments))
    return [c for c in charts if c["series"] and has_points(c)]


def _quality_lines(t: Timeline) -> dict[str, list[float | None]]:
    """Rejected rows, and for each kind of problem its worst column, as % of each window."""
    counts = zip(t.series("quality.rejected"), (w.rows for w in t.windows), strict=True)
    lines = {"rejected rows": [None if v is None or not n else 100 * v / n for v, n in counts]}
    for family, label in QUALITY.items():
        per_column = [t.series(f"quality.{family}.{c}", 100) for c in t.names(f"quality.{family}.")]
        if per_column:
            lines[f"{label} (worst column)"] = [
                max((v for v in values if v is not None), default=None)
                for values in zip(*per_column, strict=True)
            ]
    return lines


def main_metric(t: Timeline) -> str | None:
    """The metric charted over time: the first of ``PREFERRED`` some window has."""
    present = {name for values in t.values for name in values}
    return next((m for m in PREFERRED if f"performance.{m}" in present), None)


def drift_columns(window: WindowResult | None) -> list[Mapping[str, Any]]:
    """The window's drift verdict per column, drifting ones first."""
    report = mapping(window.details.get("drift")) if window else {}
    columns = [c for c in listed(report.get("columns")) if isinstance(c, Mapping)]
    return sorted(columns, key=lambda c: c.get("status") != "drift")


def histogram(column: Mapping[str, Any]) -> Markup:
    """Reference and current overlaid, as shares of each side's values (SVG, every text
    escaped by the report's drawing code)."""
    return Markup(histogram_svg(str(column.get("column")), mapping(column.get("histogram"))))


def quality_rows(window: WindowResult | None) -> list[tuple[str, dict[str, int]]]:
    """Per column, its counts of nulls, out-of-range, unseen and wrongly typed values, the
    worst first."""
    found = mapping(mapping(window.details.get("quality")).get("columns")) if window else {}
    keys = ("nulls", "out_of_range", "unseen", "type_errors")
    rows = [(str(n), {k: _count(mapping(c).get(k)) for k in keys}) for n, c in found.items()]
    rows.sort(key=lambda item: -sum(item[1].values()))
    return rows[:MAX_ROWS]


def rejected(window: WindowResult | None) -> int:
    return _count(mapping(window.details.get("quality")).get("rejected")) if window else 0


def outliers(window: WindowResult | None) -> Mapping[str, Any]:
    return mapping(window.details.get("outliers")) if window else {}


def performance(window: WindowResult | None) -> dict[str, Any] | None:
    """The window's performance: overall and per arm side by side, and per segment."""
    found = mapping(window.details.get("performance")) if window else {}
    if not found.get("task"):
        return None
    arms: dict[str, Mapping[str, Any]] = {
        "overall": {"outcomes": found.get("outcomes"), "metrics": found.get("overall")}
    }
    arms.update((str(role), mapping(arm)) for role, arm in mapping(found.get("arms")).items())
    segments = [(str(v), mapping(s)) for v, s in mapping(found.get("segments")).items()]
    metrics: dict[str, None] = {}
    for part in [*arms.values(), *(s for _, s in segments)]:
        metrics.update((str(m), None) for m in mapping(part.get("metrics")))
    ordered = [m for m in (*CLASSIFICATION, *REGRESSION) if m in metrics]
    ordered += [m for m in metrics if m not in ordered]
    return {
        "task": found.get("task"),
        "outcomes": found.get("outcomes"),
        "segment": found.get("segment"),
        "metrics": ordered,
        "arms": [
            (name, arm.get("version"), arm.get("outcomes"), mapping(arm.get("metrics")))
            for name, arm in arms.items()
        ],
        "segments": [
            (name, segment.get("outcomes"), mapping(segment.get("metrics")))
            for name, segment in segments[:MAX_ROWS]
        ],
        "segments_total": len(segments),
    }


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value) if math.isfinite(value) else 0
