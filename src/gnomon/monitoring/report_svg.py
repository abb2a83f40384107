"""Inline SVG charts for the monitor report: lines over windows and bars per segment, drawn
here (no chart library, nothing fetched), with figures formatted for people. Histograms come
from the dataset profile's charts (:mod:`gnomon.data.profile_svg`). Every text from data goes
through ``esc``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeGuard

from gnomon.data.profile_svg import COLOURS, esc, short

PALETTE = (*COLOURS, "#2a9d8f", "#8e44ad", "#6b8e23", "#7f8c8d", "#d4a017")
WORSE = "#c0392b"

Series = tuple[str, Sequence[float | None]]  # a label and one value per window


def number(value: object) -> str:
    """Four significant digits, whole numbers in full, an em dash for a missing or NaN value;
    anything else (stored JSON of another shape) as escaped text."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "—" if value is None else esc(value)
    if isinstance(value, int):
        return f"{value:,}"
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"


def finite(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def utc(ms: int) -> str:
    """Epoch milliseconds as ISO 8601 in UTC (``2024-05-01T13:00:00Z``)."""
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return str(ms)


def is_worse(value: float | None, overall: float | None, lower_is_better: bool) -> bool:
    if not finite(value) or overall is None:
        return False
    return value > overall if lower_is_better else value < overall


def line_chart(
    kind: str,
    name: str,
    windows: Sequence[tuple[int, int]],
    series: Sequence[Series],
    *,
    limit: float | None = None,
    marks: Sequence[bool] | None = None,
    size: tuple[int, int] = (560, 170),
) -> str:
    """One line per series over ``windows`` (start and end ms, oldest first), evenly spaced,
    with a ``circle.point`` per window: hollow on the axis where the value is missing, red
    where ``marks`` flags the first series; ``limit`` is drawn as a dashed line."""
    width, height = size
    left, top = 48, 10
    plot_w, plot_h = width - left - 12, height - top - 24
    numbers = [v for _, values in series for v in values if finite(v)]
    low = min([0.0, *numbers])
    high = max([*numbers, *([limit] if limit is not None else []), low])
    high = high if high > low else low + 1.0
    step = plot_w / max(len(windows) - 1, 1)

    def x(i: int) -> float:
        return left + (plot_w / 2 if len(windows) == 1 else i * step)

    def y(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    parts = [_open(kind, name, width, height), _axes(left, top, plot_w, plot_h)]
    if limit is not None:
        parts.append(_dashed(f"M{left} {y(limit):.1f} H{left + plot_w}", WORSE))
    for index, (label, values) in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<g class="series series-{index}" data-series="{esc(label)}">')
        parts.append(
            _polyline([(x(i), y(v)) if finite(v) else None for i, v in enumerate(values)], colour)
        )
        for i, ((start, _), v) in enumerate(zip(windows, values, strict=True)):
            tip = f"<title>{utc(start)}: {esc(short(label))} {number(v)}</title>"
            if not finite(v):
                parts.append(
                    f'<circle class="point missing" cx="{x(i):.1f}" cy="{top + plot_h}" r="2" '
                    f'fill="none" stroke="#999">{tip}</circle>'
                )
                continue
            fill = WORSE if marks is not None and index == 0 and marks[i] else colour
            parts.append(
                f'<circle class="point" cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{fill}">'
                f"{tip}</circle>"
            )
        parts.append("</g>")
    if windows:
        parts += [
            _label(left, height - 6, utc(windows[0][0])[:16].replace("T", " "), "start"),
            _label(left + plot_w, height - 6, utc(windows[-1][1])[:16].replace("T", " "), "end"),
        ]
    parts += [
        _label(left - 4, top + 8, number(high), "end"),
        _label(left - 4, top + plot_h, number(low), "end"),
        "</svg>",
    ]
    return "".join(parts)


def metric_bars(
    metric: str,
    items: Sequence[tuple[str, float | None]],
    overall: float | None,
    lower_is_better: bool,
) -> str:
    """A horizontal ``rect.bar`` per labelled value, red (``.worse``) where worse than
    ``overall``, which is drawn as a dashed line."""
    label_w, bar_w, row_h, top = 170, 260, 18, 6
    width, height = label_w + bar_w + 70, top * 2 + row_h * max(len(items), 1)
    peak = max([v for _, v in items if finite(v)] + [overall or 0.0, 0.0]) or 1.0
    parts = [_open("segment-bars", metric, width, height)]
    for row, (label, value) in enumerate(items):
        middle = top + row * row_h + row_h / 2 + 4
        tip = f"<title>{esc(label)}: {esc(metric)} {number(value)}</title>"
        parts.append(_label(label_w - 6, middle, short(label), "end", tip=tip))
        if finite(value):
            worse = is_worse(value, overall, lower_is_better)
            parts.append(
                f'<rect class="bar{" worse" if worse else ""}" x="{label_w}" '
                f'y="{top + row * row_h + 3}" width="{max(value / peak * bar_w, 0.0):.1f}" '
                f'height="{row_h - 6}" fill="{WORSE if worse else PALETTE[0]}">{tip}</rect>'
            )
        parts.append(_label(label_w + bar_w + 6, middle, number(value), "start"))
    if overall is not None:
        at = label_w + max(overall / peak * bar_w, 0.0)
        parts.append(_dashed(f"M{at:.1f} {top} V{height - top}", "#333"))
    parts.append("</svg>")
    return "".join(parts)


def _polyline(points: Sequence[tuple[float, float] | None], colour: str) -> str:
    """The line through ``points``, broken where one is missing."""
    path, pen = [], "M"
    for point in points:
        if point is None:
            pen = "M"
            continue
        path.append(f"{pen}{point[0]:.1f} {point[1]:.1f}")
        pen = "L"
    if not path:
        return ""
    return f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="1.5"/>'


def _open(kind: str, name: str, width: int, height: int) -> str:
    return (
        f'<svg class="chart {kind}" data-name="{esc(name)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(kind)} of {esc(name)}">'
    )


def _axes(left: float, top: float, width: float, height: float) -> str:
    return (
        f'<path d="M{left} {top} V{top + height} H{left + width}" fill="none" stroke="#777" '
        'stroke-width="1"/>'
    )


def _dashed(path: str, colour: str) -> str:
    return f'<path class="limit" d="{path}" stroke="{colour}" stroke-dasharray="4 3" fill="none"/>'


def _label(x: float, y: float, text: str, anchor: str, *, tip: str = "") -> str:
    """``text`` is escaped here; ``tip`` is markup, escaped already."""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" text-anchor="{anchor}">'
        f"{esc(text)}{tip}</text>"
    )


__all__ = ["PALETTE", "WORSE", "finite", "is_worse", "line_chart", "metric_bars", "number", "utc"]
