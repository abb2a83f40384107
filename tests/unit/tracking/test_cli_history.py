"""``gnomon runs history RUN KEY...``: the chart, its summary, and every point as JSON."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import gnomon
from gnomon.tracking.entities import Metric
from tests.fixtures.cli import fails, invoke, ok, ok_json

_BRAILLE = range(0x2800, 0x2900)


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    return gnomon.Client()


def _run(client: gnomon.Client, points: dict[str, list[tuple[int, float]]]) -> str:
    run = client.create_run(_exp(client))
    metrics = [
        Metric(key, value, step, 1_000 + index)  # logged one millisecond apart
        for key, series in points.items()
        for index, (step, value) in enumerate(series)
    ]
    client.log_batch(run.id, metrics=metrics)
    return run.id


def _exp(client: gnomon.Client) -> str:
    return client.tracking.get_or_create_experiment(client.scope, "history").id


def _plot_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(ord(c) in _BRAILLE for c in line)]


def test_a_history_is_charted_with_its_summary(client: gnomon.Client) -> None:
    run_id = _run(client, {"loss": [(s, 1 / (s + 1)) for s in range(200)]})
    text = ok("runs", "history", run_id, "loss", "--width", "60", "--height", "8")
    assert text.splitlines()[0] == "loss  200 points, steps 0 to 199"
    plot = _plot_lines(text)
    assert len(plot) == 8 and all(len(line) == 60 for line in plot)
    assert plot[0].split()[0] == "1" and plot[-1].split()[0] == "0.005"
    assert "min 0.005 at step 199   max 1 at step 0   last 0.005 at step 199" in text


def test_json_gives_every_point_of_every_key(client: gnomon.Client) -> None:
    run_id = _run(client, {"acc": [(0, 0.5), (1, 0.75)], "loss": [(0, math.nan)]})
    points = ok_json("runs", "history", run_id, "acc", "loss")
    assert points == [
        {"key": "acc", "value": 0.5, "step": 0, "timestamp": 1000},
        {"key": "acc", "value": 0.75, "step": 1, "timestamp": 1001},
        {"key": "loss", "value": "NaN", "step": 0, "timestamp": 1000},
    ]


def test_one_point_and_non_finite_values(client: gnomon.Client) -> None:
    run_id = _run(
        client,
        {"one": [(3, 0.25)], "odd": [(0, 1.0), (1, math.nan), (2, math.inf), (3, 2.0)]},
    )
    one = ok("runs", "history", run_id, "one")
    assert "1 point, step 3" in one and "last 0.25 at step 3" in one
    assert sum(bin(ord(c) - 0x2800).count("1") for c in one if ord(c) in _BRAILLE) == 1
    odd = ok("runs", "history", run_id, "odd")
    assert "max inf at step 2" in odd and "last 2 at step 3" in odd
    assert "not drawn: 1 NaN and 1 infinite values" in odd
    nothing = _run(client, {"nan": [(0, math.nan)]})
    assert "min —   max —   last nan at step 0" in ok("runs", "history", nothing, "nan")


def test_points_logged_without_steps_are_drawn_in_order(client: gnomon.Client) -> None:
    run_id = _run(client, {"x": [(0, 1.0), (0, 3.0), (0, 2.0)]})
    text = ok("runs", "history", run_id, "x")
    assert "3 points, points 0 to 2" in text and "max 3 at point 1" in text


def test_several_keys_give_one_chart_each(client: gnomon.Client) -> None:
    run_id = _run(client, {"a": [(0, 1.0), (1, 2.0)], "b": [(0, 5.0), (1, 4.0)]})
    text = ok("runs", "history", run_id, "a", "b", "--height", "4")
    assert len(_plot_lines(text)) == 8
    assert text.index("a  2 points") < text.index("b  2 points")


def test_an_unknown_key_suggests_a_logged_one(client: gnomon.Client) -> None:
    run_id = _run(client, {"loss": [(0, 1.0)]})
    line = fails("runs", "history", run_id, "los")
    assert line == f"error: run {run_id!r} has no metric 'los'; did you mean 'loss'?"
    assert fails("runs", "history", "ghost", "loss") == "error: run 'ghost' not found"


@pytest.mark.parametrize("option", [["--width", "5"], ["--height", "1000"]])
def test_the_size_is_bounded(client: gnomon.Client, option: list[str]) -> None:
    run_id = _run(client, {"loss": [(0, 1.0)]})
    result = invoke("runs", "history", run_id, "loss", *option)
    assert result.exit_code == 2 and f"Invalid value for {option[0]!r}" in result.output


def test_values_too_close_to_scale_apart_draw_flat(client: gnomon.Client) -> None:
    run_id = _run(client, {"tiny": [(0, 0.0), (1, 5e-324)]})
    text = ok("runs", "history", run_id, "tiny", "--height", "5")
    assert len(_plot_lines(text)) == 5 and "min 0 at step 0   max 4.941e-324 at step 1" in text
