"""An objective that returns inf, or reports it, fails (or prunes) its trial like NaN does:
the study goes on, resumes, and its journal never holds a number JSON cannot carry."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import gnomon
from gnomon.errors import InvalidInput
from gnomon.tuning.analysis import analyze

SPACE = {"x": {"type": "float", "low": -1.0, "high": 1.0}}


def sometimes_infinite(trial: Any) -> float:
    return math.inf if trial.number % 2 == 0 else trial.params["x"] ** 2


def diverges(trial: Any) -> float:
    trial.report(math.inf, 0)
    return 0.0


def test_an_infinite_value_fails_the_trial_and_the_study_goes_on(gnomon_home: Path) -> None:
    first = gnomon.tune(sometimes_infinite, SPACE, n_trials=6, study="edge", seed=0)
    assert first.states == {"FAIL": 3, "COMPLETE": 3}
    again = gnomon.tune(sometimes_infinite, SPACE, n_trials=2, study="edge", seed=1)
    assert sum(again.states.values()) == 8
    client = gnomon.get_client()
    report = analyze(client.tuning, again.study)  # type: ignore[attr-defined]
    failed = next(t for t in report.trials if t.state == "FAIL")
    run = client.get_run(failed.run_id)
    assert run.status == "FAILED" and "inf" in run.tags["gnomon.tuning.error"]


def test_a_diverged_report_prunes_the_trial(gnomon_home: Path) -> None:
    result = gnomon.tune(diverges, SPACE, n_trials=2, pruner="median", seed=0)
    assert result.states == {"PRUNED": 2}


def test_the_journal_refuses_non_finite_numbers(gnomon_home: Path) -> None:
    tuning = gnomon.get_client().tuning  # type: ignore[attr-defined]
    study = tuning.create_study("raw", ["minimize"])
    for bad in (math.inf, -math.inf, math.nan):
        with pytest.raises(InvalidInput, match="NaN, inf"):
            tuning.append_logs(study.id, [{"op_code": 6, "values": [bad]}])
    assert tuning.get_study("raw").logs == 0
    with pytest.raises(InvalidInput, match="finite"):
        gnomon.tune(
            sometimes_infinite, {"x": {"type": "float", "low": 0, "high": math.inf}}, n_trials=1
        )
