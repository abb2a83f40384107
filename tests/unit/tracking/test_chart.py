"""The braille line chart: what is drawn where, gaps for non-finite values, and long series."""

from __future__ import annotations

import math

import pytest

from gnomon.tracking.chart import line_chart

_BRAILLE = 0x2800


def _dots(line: str) -> int:
    return sum(bin(ord(char) - _BRAILLE).count("1") for char in line)


def _lit(line: str) -> list[int]:
    """Indexes of the characters of a plot line with at least one dot."""
    return [i for i, char in enumerate(line) if char != chr(_BRAILLE)]


def test_a_falling_series_starts_top_left_and_ends_bottom_right() -> None:
    chart = line_chart(list(range(10)), [10 - s for s in range(10)], width=40, height=6)
    assert _lit(chart.plot[0])[0] == 0
    assert _lit(chart.plot[-1])[-1] == len(chart.plot[-1]) - 1
    assert chart.margin[0].split() == ["10", "┤"] and chart.margin[-1].split() == ["1", "┤"]
    assert chart.footer[1].split() == ["0", "9"]  # steps: whole numbers
    assert all(len(line) == 40 for line in chart.lines()[:-1])


def test_one_point_is_one_dot() -> None:
    chart = line_chart([7], [0.5], width=30, height=5)
    assert sum(_dots(line) for line in chart.plot) == 1
    assert "0.5" in "".join(chart.margin)
    assert chart.footer[1].strip() == "7"


def test_a_nan_breaks_the_line() -> None:
    whole = line_chart([0, 1, 2, 3, 4], [0.0, 0.0, 0.0, 0.0, 1.0], width=12, height=3)
    broken = line_chart([0, 1, 2, 3, 4], [0.0, 0.0, math.nan, 0.0, 1.0], width=12, height=3)
    assert _dots(broken.plot[-1]) < _dots(whole.plot[-1])


def test_infinities_are_left_out_of_the_scale() -> None:
    chart = line_chart([0, 1, 2], [1.0, math.inf, 2.0], width=30, height=4)
    assert chart.margin[0].split()[0] == "2" and chart.margin[-1].split()[0] == "1"


def test_a_spike_in_many_points_survives_the_reduction() -> None:
    values = [0.0] * 50_000
    values[31_415] = 1.0
    chart = line_chart(list(range(len(values))), values, width=60, height=8)
    assert len(_lit(chart.plot[0])) == 1  # the spike reaches the top row
    assert chart.footer[1].split() == ["0", "49999"]


def test_a_flat_series_and_extreme_values_draw() -> None:
    flat = line_chart([0, 1, 2], [3.0, 3.0, 3.0], width=30, height=5)
    assert [m.split()[0] for m in flat.margin if "┤" in m] == ["3"]
    assert _dots(flat.plot[2]) > 0
    extreme = line_chart([0, 1], [1e308, -1e308], width=30, height=5)
    assert _lit(extreme.plot[0]) and _lit(extreme.plot[-1])


def test_nothing_finite_cannot_be_drawn() -> None:
    with pytest.raises(ValueError, match="no finite value"):
        line_chart([0, 1], [math.nan, math.inf], width=30, height=5)


def test_a_span_too_small_to_halve_draws_flat() -> None:
    # 5e-324 halves to 0: the scale's halved span underflows, as if the values were equal.
    chart = line_chart([0, 1], [0.0, 5e-324], width=40, height=5)
    assert [m.split()[0] for m in chart.margin if "┤" in m] == ["0"]
    assert _dots(chart.plot[2]) > 0 and not any(_lit(line) for line in chart.plot[:2])
