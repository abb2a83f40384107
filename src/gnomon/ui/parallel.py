"""Parallel coordinates of runs: one vertical axis per param and the chosen metric last, one
line per run, coloured by that metric. Written as SVG on the server: no script needed."""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from gnomon.tracking.comparison import lower_is_better
from gnomon.tracking.entities import Run

WIDTH, HEIGHT, PAD = 900, 320, 40
MAX_AXES = 12


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _axis(values: list[str | float | None]) -> tuple[list[float | None], list[str]]:
    """Positions in [0, 1] and the axis's two end labels: numbers by value, text by rank."""
    numbers = [_number(v) if isinstance(v, str) else v for v in values]
    present = [n for n in numbers if n is not None and math.isfinite(n)]
    if present and len(present) == sum(v is not None for v in values):
        low, high = min(present), max(present)
        span = (high - low) or 1.0
        return [None if n is None else (n - low) / span for n in numbers], [
            f"{low:.4g}",
            f"{high:.4g}",
        ]
    labels = sorted({str(v) for v in values if v is not None})
    at = {label: i / max(1, len(labels) - 1) for i, label in enumerate(labels)}
    ends = [labels[0], labels[-1]] if labels else ["", ""]
    return [None if v is None else at[str(v)] for v in values], ends


def _colour(position: float | None, lower_better: bool) -> str:
    if position is None:
        return "#999"
    good = 1 - position if lower_better else position
    return f"hsl({int(120 * good)}, 70%, 40%)"  # red (worst) to green (best)


def _label(x: str, y: int, text: str, kind: str) -> str:
    return f'<text class="{kind}" x="{x}" y="{y}" text-anchor="middle">{escape(text)}</text>'


def parallel_coordinates(runs: Sequence[Run], metric: str) -> Markup:
    params = sorted({k for r in runs for k in r.params})[: MAX_AXES - 1]
    axes: list[tuple[str, list[str | float | None]]] = [
        (f"params.{k}", [r.params.get(k) for r in runs]) for k in params
    ]
    axes.append((f"metrics.{metric}", [r.metrics.get(metric) for r in runs]))
    step = (WIDTH - 2 * PAD) / max(1, len(axes) - 1)
    placed = [_axis(values) for _, values in axes]
    parts = [
        f'<svg class="parallel" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="params against {escape(metric)}" data-lines="{len(runs)}">'
    ]
    for i, ((name, _), (_, ends)) in enumerate(zip(axes, placed, strict=True)):
        x = f"{PAD + i * step:.1f}"
        parts.append(f'<line class="axis" x1="{x}" y1="{PAD}" x2="{x}" y2="{HEIGHT - PAD}"/>')
        for y, label, kind in ((PAD - 22, name, "name"), (PAD - 8, ends[1], "end")):
            parts.append(_label(x, y, label, kind))
        parts.append(_label(x, HEIGHT - PAD + 14, ends[0], "end"))
    lower = lower_is_better(metric)
    for r, run in enumerate(runs):
        points = []
        for i, (positions, _) in enumerate(placed):
            position = positions[r]
            if position is not None:
                level = HEIGHT - PAD - position * (HEIGHT - 2 * PAD)
                points.append(f"{PAD + i * step:.1f},{level:.1f}")
        colour = _colour(placed[-1][0][r], lower)
        title = escape(run.name or run.id)
        parts.append(
            f'<polyline class="run" points="{" ".join(points)}" stroke="{colour}">'
            f"<title>{title}</title></polyline>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
