"""Chart payloads: what ``static/app.js`` hands to uPlot, written into the page as JSON (in a
``<script type="application/json">``, escaped by Jinja's ``tojson``), never as script."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from gnomon.tracking.series import MetricSeries

CHART_POINTS = 2000  # per series on a page: more than a chart is wide, in pixels


def finite(value: float | None) -> float | None:
    """JSON has no NaN or infinity: a gap in the line instead."""
    return value if value is not None and math.isfinite(value) else None


def line_chart(
    chart_id: str, series: Sequence[MetricSeries], *, x_label: str = "step", **extra: Any
) -> dict[str, Any]:
    """Several series over one shared x axis (the union of their steps; a series without a
    point at a step has a gap there)."""
    xs = sorted({step for s in series for step in s.steps})
    at = {step: i for i, step in enumerate(xs)}
    lines = []
    for s in series:
        values: list[float | None] = [None] * len(xs)
        for step, value in zip(s.steps, s.values, strict=True):
            values[at[step]] = finite(value)
        lines.append(
            {"label": s.key, "values": values, "total": s.total, "downsampled": s.downsampled}
        )
    return {"id": chart_id, "kind": "line", "x": xs, "x_label": x_label, "series": lines, **extra}
