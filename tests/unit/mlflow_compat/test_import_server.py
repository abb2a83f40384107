"""``gnomon import mlflow --from http://…``: runs read from a tracking server through MLflow's
REST API. The server here is gnomon's own, which speaks that API (``mlflow_compat``) and starts
in a fraction of a second; the same import was checked by hand against ``mlflow server``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import gnomon
from gnomon.cli.app import app
from gnomon.mlflow_compat.importing import MLFLOW_RUN_TAG
from gnomon.tracking.entities import Metric
from tests.fixtures.server import LiveServer, serve, server_settings
from tests.unit.mlflow_compat.test_import import gnomon_import

T0 = 1_700_000_000_000
LOSS = [1.0, math.nan, math.inf, -math.inf, 0.25]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    home = tmp_path / "server"
    home.mkdir()
    with serve(server_settings(f"sqlite:///{home / 'gnomon.db'}", home), no_auth=True) as live:
        yield live


@pytest.fixture
def written(server: LiveServer, tmp_path: Path) -> dict[str, str]:
    """Two runs on the server, one nested, with params, a metric history and artifacts."""
    remote = gnomon.Client(server.url)
    experiment = remote.create_experiment("remote")
    parent = remote.create_run(experiment.id, "parent")
    remote.log_batch(
        parent.id,
        metrics=[Metric("loss", v, i, T0 + i) for i, v in enumerate(LOSS)],
        params={"lr": "0.1"},
    )
    files = tmp_path / "files"
    (files / "sub").mkdir(parents=True)
    (files / "a.txt").write_text("hello")
    (files / "sub" / "b.bin").write_bytes(bytes(range(256)) * 8)
    remote.log_artifact(parent.id, files / "a.txt")
    remote.log_artifact(parent.id, files / "sub" / "b.bin", "sub")
    child = remote.create_run(experiment.id, "child", parent_run_id=parent.id)
    return {"parent": parent.id, "child": child.id}


def test_runs_metric_histories_and_artifacts_come_through_the_rest_api(
    server: LiveServer, written: dict[str, str], gnomon_home: Path
) -> None:
    summary = gnomon_import("--from", server.url)
    assert summary["complete"] is True and summary["skipped"] == []
    assert (summary["runs_imported"], summary["params"], summary["metric_points"]) == (2, 1, 5)
    assert (summary["artifact_files"], summary["artifact_bytes"]) == (2, 5 + 2048)

    client = gnomon.Client()
    parent = client.get_run(summary["run_ids"][written["parent"]])
    child = client.get_run(summary["run_ids"][written["child"]])
    assert (parent.tags[MLFLOW_RUN_TAG], parent.params) == (written["parent"], {"lr": "0.1"})
    assert child.parent_run_id == parent.id
    history = client.get_metric_history(parent.id, "loss")
    assert [(m.step, repr(m.value)) for m in history] == [(i, repr(v)) for i, v in enumerate(LOSS)]
    copied = client.download_artifacts(parent.id, "sub/b.bin", gnomon_home / "out")
    assert copied.read_bytes() == bytes(range(256)) * 8

    again = gnomon_import("--from", server.url)
    assert (again["runs_imported"], again["runs_already_imported"]) == (0, 2)


def test_a_file_over_the_size_limit_is_left_out_with_the_reason(
    server: LiveServer, written: dict[str, str], gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNOMON_MAX_ARTIFACT_BYTES", "1024")
    summary = gnomon_import("--from", server.url)
    assert summary["artifact_files"] == 1 and summary["complete"] is True
    [left_out] = summary["skipped"]
    assert left_out["kind"] == "artifact" and left_out["subject"].endswith("sub/b.bin")
    assert left_out["reason"] == "2,048 bytes; over the limit of 1,024"


def test_an_unreachable_server_is_a_clear_error(gnomon_home: Path) -> None:
    result = CliRunner().invoke(app, ["import", "mlflow", "--from", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "cannot reach the MLflow server http://127.0.0.1:9" in result.stderr
