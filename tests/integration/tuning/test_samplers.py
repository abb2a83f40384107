"""Each sampler and pruner by name, and a study bounded by time instead of a count."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import gnomon
from gnomon.tuning.analysis import analyze
from tests.integration.tuning import objectives
from tests.integration.tuning.objectives import SPACE


@pytest.mark.parametrize("sampler", ["random", "cmaes"])
def test_samplers_find_the_bowl(gnomon_home: Path, sampler: str) -> None:
    result = gnomon.tune(objectives.quadratic, SPACE, n_trials=40, sampler=sampler, seed=0)
    assert result.states == {"COMPLETE": 40} and result.best.value < 2.0
    study_run = gnomon.get_client().get_run(result.run_id)
    assert study_run.params["sampler"] == sampler


def test_the_grid_sampler_visits_each_point_once(gnomon_home: Path) -> None:
    space = {"x": {"type": "int", "low": 0, "high": 3}, "y": [-1.0, 1.0]}
    result = gnomon.tune(objectives.quadratic, space, n_trials=8, sampler="grid", seed=0)
    report = analyze(gnomon.get_client().tuning, result.study)  # type: ignore[attr-defined]
    report_points = {(t.params["x"], t.params["y"]) for t in report.trials}
    assert report_points == {(x, y) for x in range(4) for y in (-1.0, 1.0)}
    assert result.best.params == {"x": 2, "y": -1.0}


def test_hyperband_prunes(gnomon_home: Path) -> None:
    result = gnomon.tune(
        objectives.curves,
        {"x": {"type": "float", "low": -10.0, "high": 10.0}},
        n_trials=30,
        pruner="hyperband",
        sampler="random",
        seed=3,
    )
    assert result.states.get("PRUNED", 0) > 0 and result.states.get("COMPLETE", 0) > 0


def test_a_timeout_ends_the_study(gnomon_home: Path) -> None:
    started = time.monotonic()
    result = gnomon.tune(objectives.slow, SPACE, timeout=1.0, seed=0)
    assert time.monotonic() - started < 10
    assert 1 <= result.states["COMPLETE"] <= 10
