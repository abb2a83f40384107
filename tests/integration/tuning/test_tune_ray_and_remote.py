"""Trials as Ray tasks on a local Ray, and a study run against a live server: the journal
goes through the REST API and still hands out every trial number exactly once."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

import gnomon
from gnomon.tracking import fluent
from gnomon.tuning.analysis import analyze
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.ray_slot import SLOT_TIMEOUT
from tests.fixtures.server import LiveServer
from tests.integration.tuning import objectives
from tests.integration.tuning.objectives import SPACE


@pytest.mark.usefixtures("one_ray_at_a_time")
@pytest.mark.timeout(SLOT_TIMEOUT)
def test_trials_run_as_ray_tasks(gnomon_home: Path) -> None:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    try:
        result = gnomon.tune(
            objectives.quadratic,
            SPACE,
            n_trials=8,
            parallelism=4,
            executor="ray",
            seed=6,
            worker_resources={"CPU": 0.5},  # four workers at once on two CPUs
        )
    finally:
        ray.shutdown()
    assert result.states == {"COMPLETE": 8}
    report = analyze(gnomon.get_client().tuning, result.study)  # type: ignore[attr-defined]
    assert sorted(t.number for t in report.trials) == list(range(8))
    assert len({t.run_id for t in report.trials}) == 8


@pytest.fixture
def remote(
    open_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[gnomon.Client]:
    assert open_server.services.database is not None
    workspace = fresh_workspace(open_server.services.database).workspace
    monkeypatch.setenv("GNOMON_URI", open_server.url)
    monkeypatch.setenv("GNOMON_WORKSPACE", workspace)
    monkeypatch.setenv("GNOMON_HOME", str(tmp_path / "client"))
    monkeypatch.setenv("GNOMON_CAPTURE_ENVIRONMENT", "false")
    fluent._reset()
    yield gnomon.get_client()
    fluent._reset()


def test_a_study_through_the_server_with_parallel_workers(remote: gnomon.Client) -> None:
    result = gnomon.tune(
        objectives.quadratic, SPACE, n_trials=10, parallelism=2, study="remote", seed=7
    )
    again = gnomon.tune(objectives.quadratic, SPACE, n_trials=2, study="remote", seed=8)
    report = analyze(remote.tuning, again.study)  # type: ignore[attr-defined]
    assert sorted(t.number for t in report.trials) == list(range(12))
    assert result.states == {"COMPLETE": 10}
    run = remote.get_run(report.best[0].run_id)
    assert run.parent_run_id == result.run_id and "x" in run.params
