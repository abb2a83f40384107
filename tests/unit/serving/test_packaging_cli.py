"""`gnomon build-image` and `gnomon k8s manifests` from the shell; the packaged folder served
by a real `gnomon serve` process, as the container runs it."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import kubernetes_validate
import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import gnomon
from gnomon.cli.app import app
from tests.fixtures.processes import GNOMON, free_port, wait_until_answers

TOKEN = "gnm-secret-token-value-123"
runner = CliRunner()


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"x": rng.normal(size=80), "y": rng.normal(size=80)})


@pytest.fixture
def registered(gnomon_home: Path, frame: pd.DataFrame) -> str:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(frame, (frame["x"] + frame["y"] > 0).astype(int))
    with gnomon.start_run():
        uri = gnomon.log_model(model, "model", input_example=frame)
    gnomon.register_model(uri, "churn", alias="production")
    gnomon.flush()
    return "models:/churn@production"


def test_the_built_context_is_served_by_gnomon_serve(
    registered: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["build-image", registered, str(tmp_path / "ctx")])
    assert result.exit_code == 0, result.output
    assert "churn version 1" in result.stdout and "docker build -t churn:1" in result.stdout

    # What the container runs: the folder alone, with a home of its own and no registry.
    env = {**os.environ, "GNOMON_HOME": str(tmp_path / "container-home")}
    port = free_port()
    command = [GNOMON, "serve", str(tmp_path / "ctx" / "model"), "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--host", "127.0.0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    rows = frame.head(5)
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/healthz", proc, timeout=90)
        answer = httpx.post(
            f"http://127.0.0.1:{port}/predict", json={"records": rows.to_dict(orient="records")}
        )
        assert answer.status_code == 200, answer.text
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    expected = gnomon.load_model("models:/churn/1").predict(rows).tolist()
    assert answer.json()["predictions"] == expected


def test_a_local_folder_needs_no_store(
    gnomon_home: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    from sklearn.linear_model import LinearRegression

    from gnomon.modelfolder import save_model

    save_model(LinearRegression().fit(frame, frame["x"]), tmp_path / "m", input_example=frame)
    result = runner.invoke(app, ["build-image", str(tmp_path / "m"), str(tmp_path / "ctx")])
    assert result.exit_code == 0, result.output
    assert not (gnomon_home / "gnomon.db").exists()


def test_build_image_errors_are_one_line(gnomon_home: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["build-image", "models:/ghost/1", str(tmp_path / "ctx")])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "ghost" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_manifests_for_an_existing_deployment(
    registered: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNOMON_TOKEN", TOKEN)  # must never reach the manifests
    gnomon.get_client().deployments.create("churn-api", "churn@production")
    args = ["k8s", "manifests", "churn-api", "--server-uri", "http://gnomon.mlops.svc:5000"]
    args += ["--artifacts", "s3://ml-artifacts/gnomon"]
    result = runner.invoke(app, [*args, "--namespace", "ml", "--max-replicas", "4"])
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.stdout
    documents = list(yaml.safe_load_all(result.stdout))
    kinds = ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"]
    assert [d["kind"] for d in documents] == kinds
    for document in documents:
        kubernetes_validate.validate(document, "1.29", strict=True)
        assert document["metadata"]["namespace"] == "ml"
    assert documents[2]["spec"]["maxReplicas"] == 4

    written = runner.invoke(app, [*args, "--out", str(tmp_path / "k8s")])
    assert written.exit_code == 0, written.output
    assert (tmp_path / "k8s" / "churn-api.yaml").is_file()


def test_manifests_for_a_missing_deployment_or_without_a_server(registered: str) -> None:
    missing = runner.invoke(
        app,
        [
            "k8s",
            "manifests",
            "ghost",
            "--server-uri",
            "http://gnomon.mlops.svc:5000",
            "--no-records",
        ],
    )
    assert missing.exit_code == 1
    assert missing.stderr.strip() == (
        "error: deployment 'ghost' not found in workspace 'default': "
        "create it first with gnomon deploy create"
    )
    gnomon.get_client().deployments.create("churn-api", "churn@production")
    no_server = runner.invoke(app, ["k8s", "manifests", "churn-api", "--no-records"])
    assert no_server.exit_code == 1 and "--server-uri is required" in no_server.stderr
