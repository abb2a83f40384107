"""Charts over wall-clock time for the deployments and monitors pages: uPlot line payloads
whose x axis is a time scale (``x_time``), which uPlot reads in seconds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gnomon.tracking.series import MetricSeries
from gnomon.ui.charts import line_chart

Line = tuple[Sequence[int], Sequence[float | None]]  # times (ms since the epoch) and values


def time_chart(chart_id: str, lines: Mapping[str, Line], **extra: Any) -> dict[str, Any]:
    """One line per label over the union of their times; ``extra`` goes into the payload
    (a ``title``, say)."""
    series = [
        MetricSeries(label, list(times), list(values), len(times))
        for label, (times, values) in lines.items()
    ]
    spec = line_chart(chart_id, series, x_label="time", x_time=True, **extra)
    spec["x"] = [ms / 1000 for ms in spec["x"]]
    return spec


def has_points(spec: Mapping[str, Any]) -> bool:
    """Whether a chart has a value to draw (an empty chart is left out of a page)."""
    return any(v is not None for s in spec["series"] for v in s["values"])
