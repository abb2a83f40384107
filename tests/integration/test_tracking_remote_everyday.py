"""Issue 11's everyday tracking against a live server, as an MLflow user would point a notebook
at one: autologging, evaluation with a baseline, comparisons and system metrics all go
through the fluent API, so they must behave the same remote as embedded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import gnomon
from gnomon.artifacts.store import ArtifactInfo
from gnomon.tracking import fluent
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.server import LiveServer


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
    gnomon.autolog("sklearn", disable=True)
    fluent._reset()


def test_autolog_evaluate_and_compare_through_the_server(remote: gnomon.Client) -> None:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    train, test = x.iloc[:400], x.iloc[400:].assign(target=y.iloc[400:].to_numpy())
    gnomon.autolog("sklearn")
    with gnomon.start_run(name="tree") as tree_run:
        DecisionTreeClassifier(max_depth=3, random_state=0).fit(train, y.iloc[:400])
    with gnomon.start_run(name="linear") as linear_run:
        LogisticRegression(max_iter=5000).fit(train, y.iloc[:400])
    tree = remote.get_run(tree_run.id)
    assert tree.params["max_depth"] == "3" and tree.tags["training.rows"] == "400"
    assert 0.9 < tree.metrics["training_accuracy"] <= 1.0

    with gnomon.start_run(name="evaluate") as evaluation_run:
        result = gnomon.evaluate(
            f"runs:/{linear_run.id}/model",
            test,
            "target",
            baseline=f"runs:/{tree_run.id}/model",
            thresholds={"accuracy": {"min_value": 0.5}},
        )
    stored = remote.get_run(evaluation_run.id)
    assert stored.metrics["eval_accuracy"] == pytest.approx(result.metrics["accuracy"])
    assert stored.tags["gnomon.evaluation.verdict"] == "passed"
    assert "evaluation/roc_curve.png" in [a.path for a in _files(remote, evaluation_run.id)]

    comparison = remote.compare_runs([tree_run.id, linear_run.id])
    assert [run.id for run in comparison.runs] == [tree_run.id, linear_run.id]
    assert "<table" in comparison._repr_html_()


def test_system_metrics_reach_the_server(
    remote: gnomon.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNOMON_SYSTEM_METRICS_INTERVAL", "0.1")
    fluent._reset()
    with gnomon.start_run(name="sampled", log_system_metrics=True) as run:
        history: list[gnomon.Metric] = []
        for _ in range(50):  # at most 5 s: a loaded machine may sample late
            history = gnomon.get_client().get_metric_history(
                run.id, "system/cpu_utilization_percentage"
            )
            if len(history) >= 2:
                break
            gnomon.flush()
            time.sleep(0.1)
    assert len(history) >= 2
    assert [p.step for p in history] == sorted(p.step for p in history)


def _files(client: gnomon.Client, run_id: str) -> list[ArtifactInfo]:
    return client.list_artifacts(run_id, "evaluation")
