"""A line chart in Unicode braille, for a terminal: each character is a 2x4 grid of dots.

No plotting library: a metric's history is one series of (step, value) points, and a few
dozen lines here draw it as densely as a terminal allows. Thousands of points are reduced to
each dot column's first, lowest, highest and last value before drawing, so a spike survives
the reduction and the drawing costs the same for a million points as for a few hundred.
Non-finite values (NaN, ±inf) are not drawn: the line breaks around them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

_BRAILLE = 0x2800
# The bit of each dot in a braille cell, by (column, row) within the cell.
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
_MIN_PLOT_WIDTH = 4

Dot = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Chart:
    """The chart's lines, top first: ``margin[i]`` (a y label and the axis) goes before
    ``plot[i]`` (braille); ``footer`` is the x axis and its labels."""

    margin: list[str]
    plot: list[str]
    footer: list[str]

    def lines(self) -> list[str]:
        return [m + p for m, p in zip(self.margin, self.plot, strict=True)] + self.footer


def line_chart(xs: Sequence[float], ys: Sequence[float], width: int, height: int) -> Chart:
    """Draw ``ys`` against ``xs`` (in the order given) in ``width`` characters, labels
    included, and ``height`` lines plus two for the x axis.

    Raises:
        ValueError: ``xs`` and ``ys`` differ in length, or no value is finite.
    """
    if len(xs) != len(ys):
        raise ValueError("xs and ys must have the same length")
    finite = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(y)]
    if not finite:
        raise ValueError("no finite value to draw")
    low, high = min(y for _, y in finite), max(y for _, y in finite)
    labels = _y_labels(low, high, height)
    label_width = max(len(label) for label in labels.values())
    plot_width = max(width - label_width - 2, _MIN_PLOT_WIDTH)
    grid = _Grid(plot_width, height)
    x_first, x_last = min(x for x, _ in finite), max(x for x, _ in finite)
    to_dot = _DotScale(x_first, x_last, low, high, grid.dot_width - 1, grid.dot_height - 1)
    for stroke in _strokes(xs, ys, to_dot):
        grid.draw(_thinned(stroke))
    margin = [
        f"{labels.get(row, ''):>{label_width}} {'┤' if row in labels else '│'}"
        for row in range(height)
    ]
    footer = [
        " " * label_width + " └" + "─" * plot_width,
        " " * (label_width + 2) + _x_labels(x_first, x_last, plot_width),
    ]
    return Chart(margin, grid.rows(), footer)


def number(value: float) -> str:
    """A value as the chart labels it: four significant digits."""
    return f"{value:.4g}"


def _x_number(value: float) -> str:
    # Steps are whole numbers: 100000, not 1e+05.
    return str(int(value)) if float(value).is_integer() else number(value)


def _flat(low: float, high: float) -> bool:
    """Whether values between ``low`` and ``high`` are drawn as a flat line: equal, or so
    close that their halved difference underflows to zero (0 and 5e-324)."""
    # Halved: high - low of two huge finite values would overflow to inf.
    return high / 2 - low / 2 == 0


def _y_labels(low: float, high: float, height: int) -> dict[int, str]:
    if _flat(low, high):  # a flat line is drawn across the middle
        return {height // 2: number(low)}
    labels = {0: number(high), height - 1: number(low)}
    if height >= 5:
        labels[height // 2] = number(high / 2 + low / 2)
    return labels


def _x_labels(first: float, last: float, width: int) -> str:
    left, right = _x_number(first), _x_number(last)
    if first == last:
        return left.center(width).rstrip()
    gap = width - len(left) - len(right)
    return left + " " * gap + right if gap >= 1 else left


@dataclass(frozen=True, slots=True)
class _DotScale:
    """Where a point falls on the grid of dots: column from the left, row from the top."""

    x_first: float
    x_last: float
    low: float
    high: float
    right: int
    bottom: int

    def __call__(self, x: float, y: float) -> Dot:
        if self.x_last == self.x_first:
            column = self.right // 2
        else:
            column = round((x - self.x_first) / (self.x_last - self.x_first) * self.right)
        if _flat(self.low, self.high):
            return column, self.bottom // 2
        share = (self.high / 2 - y / 2) / (self.high / 2 - self.low / 2)
        return column, round(share * self.bottom)


def _strokes(xs: Sequence[float], ys: Sequence[float], to_dot: _DotScale) -> list[list[Dot]]:
    """The points as dots, in runs of finite values: a NaN or ±inf breaks the line."""
    strokes: list[list[Dot]] = [[]]
    for x, y in zip(xs, ys, strict=True):
        if math.isfinite(y):
            strokes[-1].append(to_dot(x, y))
        elif strokes[-1]:
            strokes.append([])
    return [stroke for stroke in strokes if stroke]


def _thinned(stroke: list[Dot]) -> list[Dot]:
    """Per run of dots in one column: its first, highest, lowest and last, in their order."""
    kept: list[Dot] = []
    start = 0
    while start < len(stroke):
        end = start
        while end + 1 < len(stroke) and stroke[end + 1][0] == stroke[start][0]:
            end += 1
        column = stroke[start : end + 1]
        rows = [dot[1] for dot in column]
        picks = sorted({0, rows.index(min(rows)), rows.index(max(rows)), len(column) - 1})
        kept += [column[i] for i in picks]
        start = end + 1
    return kept


class _Grid:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.dot_width, self.dot_height = width * 2, height * 4
        self.cells = [[0] * width for _ in range(height)]

    def draw(self, dots: list[Dot]) -> None:
        self._set(*dots[0])
        for start, end in itertools.pairwise(dots):
            for dot in _segment(start, end):
                self._set(*dot)

    def _set(self, x: int, y: int) -> None:
        self.cells[y // 4][x // 2] |= _DOTS[x % 2][y % 4]

    def rows(self) -> list[str]:
        return ["".join(chr(_BRAILLE + cell) for cell in row) for row in self.cells]


def _segment(start: Dot, end: Dot) -> list[Dot]:
    """The dots of a straight line from ``start`` to ``end`` (Bresenham's)."""
    (x, y), (x_end, y_end) = start, end
    dx, dy = abs(x_end - x), -abs(y_end - y)
    step_x, step_y = (1 if x < x_end else -1), (1 if y < y_end else -1)
    error = dx + dy
    dots = [(x, y)]
    while (x, y) != (x_end, y_end):
        double = 2 * error
        if double >= dy:
            error += dy
            x += step_x
        if double <= dx:
            error += dx
            y += step_y
        dots.append((x, y))
    return dots
