"""The tuning step in a pipeline: its study's trials are runs under the step's run, the best
parameters are refitted on all rows, and the model passes through the gate to the registry."""

from __future__ import annotations

from pathlib import Path

import gnomon
from tests.integration.tuning.tuning_pipeline import tuned


def test_tune_step_feeds_the_gate_and_the_registry(gnomon_home: Path) -> None:
    result = gnomon.run_pipeline(tuned, {"n_trials": 4}, parallelism=1)
    assert result.run.status == "succeeded", result.run.error
    client = gnomon.get_client()
    version = client.registry.get_version("tuned-tree", "production")
    step_run = client.get_run(version.run_id)
    assert step_run.tags["gnomon.component"] == "tune"
    assert 1 <= int(step_run.params["max_depth"]) <= 6
    assert 0.8 < step_run.metrics["best_cv_score"] <= 1.0
    study = client.tuning.get_study(step_run.tags["gnomon.tuning.study"])  # type: ignore[attr-defined]
    study_run = client.get_run(study.run_id)
    assert study_run.parent_run_id == step_run.id
    assert study_run.tags["gnomon.tuning.complete"] == "4"
