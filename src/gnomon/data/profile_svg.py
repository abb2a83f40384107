"""Inline SVG charts for profile pages: histograms, horizontal bars and heatmaps, drawn here
(no chart library, nothing fetched). Every text a user controls goes through ``esc``.

A chart of two versions draws series 0 and 1 (``g.series-0``, ``g.series-1``) over each other
on the same axes, as shares of each version's rows so versions of different sizes compare.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

COLOURS = ("#3b6fb6", "#e07b39")  # series 0 and 1
MISSING_CELL = "#d9d9d9"
LABEL_CHARS = 24


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def number(value: float | int | None) -> str:
    """A figure for people: integers with separators, others to six significant digits."""
    if value is None:
        return "—"
    if isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    return f"{value:.6g}"


def histogram(column: str, edges: Sequence[float], series: Sequence[Sequence[int]]) -> str:
    """Bars over ``edges``: counts for one series, shares of each series' total for two."""
    width, height, left, right, top, bottom = 360, 160, 48, 12, 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    shares = len(series) > 1
    heights = [_scaled(counts, shares) for counts in series]
    peak = max((max(h) for h in heights if h), default=0.0) or 1.0
    step = plot_w / max(len(edges) - 1, 1)
    parts = [_open("histogram", column, width, height)]
    for index, (counts, values) in enumerate(zip(series, heights, strict=True)):
        parts.append(f'<g class="series-{index}" fill="{COLOURS[index]}" fill-opacity="0.6">')
        for b, (count, value) in enumerate(zip(counts, values, strict=True)):
            bar = value / peak * plot_h
            tip = f"[{number(edges[b])}, {number(edges[b + 1])}): {count:,}"
            parts.append(
                f'<rect x="{left + b * step:.2f}" y="{top + plot_h - bar:.2f}" '
                f'width="{max(step - 1, 1):.2f}" height="{bar:.2f}">'
                f"<title>{esc(tip)}</title></rect>"
            )
        parts.append("</g>")
    y_label = f"{peak:.1%}" if shares else number(int(peak))
    parts += [
        _axes(left, top, plot_w, plot_h),
        _text(left - 4, top + 8, y_label, "end"),
        _text(left, height - 10, number(edges[0]), "start"),
        _text(left + plot_w, height - 10, number(edges[-1]), "end"),
        "</svg>",
    ]
    return "".join(parts)


def bars(
    kind: str,
    column: str,
    labels: Sequence[str],
    series: Sequence[Sequence[float]],
    tips: Sequence[Sequence[str]],
) -> str:
    """Horizontal bars, one row per label and one bar per series; values are shares (0-1)."""
    label_w, bar_w, row_h, top = 170, 220, 10 + 8 * len(series), 6
    width, height = label_w + bar_w + 120, top * 2 + row_h * max(len(labels), 1)
    peak = max((max(values) for values in series if values), default=0.0) or 1.0
    thick = (row_h - 6) / len(series)
    parts = [_open(kind, column, width, height)]
    for row, label in enumerate(labels):
        middle = top + row * row_h + row_h / 2 + 4
        parts.append(_text(label_w - 6, middle, short(label), "end", full=label))
    for index, values in enumerate(series):
        parts.append(f'<g class="series-{index}" fill="{COLOURS[index]}">')
        for row, value in enumerate(values):
            y = top + row * row_h + 3 + index * thick
            length = max(value / peak * bar_w, 0.0)
            parts.append(
                f'<rect x="{label_w}" y="{y:.2f}" width="{length:.2f}" height="{thick:.2f}">'
                f"<title>{esc(tips[index][row])}</title></rect>"
            )
        parts.append("</g>")
    for row in range(len(labels)):
        text = " / ".join(f"{values[row]:.1%}" for values in series)
        middle = top + row * row_h + row_h / 2 + 4
        parts.append(_text(label_w + bar_w + 6, middle, text, "start", size=10))
    parts.append("</svg>")
    return "".join(parts)


def heatmap(title: str, columns: Sequence[str], matrix: Sequence[Sequence[float | None]]) -> str:
    """A correlation matrix: red positive, blue negative, grey where undefined."""
    k = len(columns)
    cell = max(10, min(26, 520 // max(k, 1)))
    margin = 130
    size = margin + cell * k + 10
    parts = [_open("heatmap", title, size, size)]
    for i, name in enumerate(columns):
        y = margin + i * cell + cell / 2 + 4
        parts.append(_text(margin - 4, y, short(name, 18), "end", full=name, size=10))
        x = margin + i * cell + cell / 2 + 4
        parts.append(
            f'<text x="{x:.2f}" y="{margin - 4}" font-size="10" text-anchor="start" '
            f'transform="rotate(-60 {x:.2f} {margin - 4})">{esc(short(name, 18))}'
            f"<title>{esc(name)}</title></text>"
        )
    parts.append('<g class="cells">')
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            shown = "undefined" if value is None else f"{value:.3f}"
            tip = f"{columns[i]} and {columns[j]}: {shown}"
            parts.append(
                f'<rect x="{margin + j * cell}" y="{margin + i * cell}" width="{cell}" '
                f'height="{cell}" fill="{_diverging(value)}"><title>{esc(tip)}</title></rect>'
            )
    parts.append("</g></svg>")
    return "".join(parts)


def _scaled(counts: Sequence[int], shares: bool) -> list[float]:
    total = sum(counts)
    return [c / total if shares and total else float(c) for c in counts]


def _open(kind: str, name: str, width: float, height: float) -> str:
    return (
        f'<svg class="chart {kind}" data-column="{esc(name)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="{esc(kind)} of {esc(name)}">'
    )


def _axes(left: float, top: float, width: float, height: float) -> str:
    bottom = top + height
    return (
        f'<path d="M{left} {top} V{bottom} H{left + width}" fill="none" stroke="#777" '
        'stroke-width="1"/>'
    )


def _text(
    x: float, y: float, text: str, anchor: str, *, full: str | None = None, size: int = 11
) -> str:
    tip = f"<title>{esc(full)}</title>" if full is not None and full != text else ""
    return (
        f'<text x="{x:.2f}" y="{y:.2f}" font-size="{size}" text-anchor="{anchor}">'
        f"{esc(text)}{tip}</text>"
    )


def _diverging(value: float | None) -> str:
    if value is None:
        return MISSING_CELL
    end = (178, 24, 43) if value >= 0 else (33, 102, 172)
    weight = min(abs(value), 1.0)
    red, green, blue = (round(255 + (c - 255) * weight) for c in end)
    return f"rgb({red},{green},{blue})"
