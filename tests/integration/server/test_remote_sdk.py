"""The SDK behaves the same embedded and through a server: one suite, both modes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import gnomon
from gnomon.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from gnomon.tracking.entities import RunStatus


def test_tour_in_both_modes(mode: str, tmp_path: Path) -> None:
    gnomon.set_experiment(f"churn-{mode}-{tmp_path.name}")
    (tmp_path / "confusion.csv").write_text("tp,fp\n40,3\n")
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "roc.txt").write_text("roc")
    with gnomon.start_run(name="rf", tags={"team": "growth"}) as run:
        gnomon.log_params({"n_estimators": 100, "max_depth": 8})
        for step in range(50):
            gnomon.log_metric("loss", 1.0 / (step + 1), step=step)
        gnomon.log_metrics({"acc": 0.91, "odd": math.nan, "big": math.inf})
        gnomon.log_artifact(tmp_path / "confusion.csv")
        gnomon.log_artifact(tmp_path / "plots", "charts")
    client = gnomon.Client()
    stored = client.get_run(run.id)
    assert stored.status is RunStatus.FINISHED
    assert stored.params == {"n_estimators": "100", "max_depth": "8"}
    assert stored.metrics["acc"] == 0.91 and stored.metrics["big"] == math.inf
    assert math.isnan(stored.metrics["odd"])
    assert stored.tags["team"] == "growth" and "gnomon.python.version" in stored.tags
    assert len(client.get_metric_history(run.id, "loss")) == 50
    found = client.search_runs(
        f"churn-{mode}-{tmp_path.name}", "metrics.acc > 0.9 and params.max_depth = '8'"
    )
    assert [r.id for r in found] == [run.id]
    names = {a.path for a in client.list_artifacts(run.id)}
    assert {"confusion.csv", "charts", "gnomon"} <= names
    local = client.download_artifacts(run.id, "confusion.csv", tmp_path / "dl")
    assert local.read_text() == "tp,fp\n40,3\n"
    folder = client.download_artifacts(run.id, "charts", tmp_path / "dl2")
    assert (folder / "plots" / "roc.txt").read_text() == "roc"


def test_same_errors_in_both_modes(mode: str, tmp_path: Path) -> None:
    client = gnomon.Client()
    name = f"errors-{mode}-{tmp_path.name}"
    exp = client.create_experiment(name)
    with pytest.raises(AlreadyExists, match=f"'{name}' already exists"):
        client.create_experiment(name)
    with pytest.raises(NotFound, match="'ghost'"):
        client.get_run("ghost")
    run = client.create_run(exp.id, "r")
    client.log_param(run.id, "depth", 8)
    with pytest.raises(Conflict, match=r"'depth'.*'8'.*'9'"):
        client.log_param(run.id, "depth", 9)
    with pytest.raises(InvalidInput, match="position"):
        client.search_runs(name, "metrics.acc >> 1")
    with pytest.raises(InvalidInput, match="metric key"):
        client.log_metric(run.id, "bad'key", 1.0)
    client.end_run(run.id)
    with pytest.raises(Conflict, match="FINISHED"):
        client.log_metric(run.id, "late", 1.0)
