"""What the service refuses to record, embedded (the same service answers the server)."""

from __future__ import annotations

from pathlib import Path

import pytest

import gnomon
from gnomon._types import new_id
from gnomon.errors import InvalidInput
from gnomon.pipelines import service
from gnomon.pipelines.entities import NewPipelineRun, StepArtifact, StepRun


def _step(run_id: str, node: str, artifacts: int = 0) -> StepRun:
    made = tuple(StepArtifact(f"o{i}", "out", "0" * 32, "json") for i in range(artifacts))
    return StepRun(new_id(), run_id, node, "s", "succeeded", None, 1, 1, 2, artifacts=made)


def test_a_run_holds_a_bounded_number_of_steps_and_artifacts(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_NODES", 3)
    monkeypatch.setattr(service, "MAX_RUN_ARTIFACTS", 5)
    api = gnomon.get_client().pipelines
    run = api.start_run(NewPipelineRun("p", "m:p", {}, {}, "local"))
    api.record_steps(run.id, [_step(run.id, "a", 2), _step(run.id, "b", 2)])
    with pytest.raises(InvalidInput, match="may hold 3 steps and 5 artifacts; it holds 2 and 4"):
        api.record_steps(run.id, [_step(run.id, "c", 2)])
    with pytest.raises(InvalidInput, match="may hold 3 steps"):
        api.record_steps(run.id, [_step(run.id, "c"), _step(run.id, "d")])
    api.record_steps(run.id, [_step(run.id, "c", 1)])
    assert [s.node for s in api.steps(run.id)] == ["a", "b", "c"]


def test_the_cache_answers_with_the_newest_computation_of_a_key(gnomon_home: Path) -> None:
    api = gnomon.get_client().pipelines
    run = api.start_run(NewPipelineRun("p", "m:p", {}, {}, "local"))
    older = StepRun(new_id(), run.id, "a", "s", "succeeded", "k" * 32, 1, 1, 10)
    newer = StepRun(new_id(), run.id, "b", "s", "succeeded", "k" * 32, 1, 1, 20)
    api.record_steps(run.id, [older, newer])
    assert api.cached(["k" * 32])["k" * 32].id == newer.id
