"""``gnomon import mlflow``: real MLflow stores, written by MLflow itself, copied into gnomon.

MLflow runs in its own virtual environment (gnomon never imports it): a script there writes a
file store and a SQLite store with the same content, and reads each run back through MLflow,
which is what the imported runs are compared with.
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import gnomon
from gnomon.cli.app import app
from gnomon.mlflow_compat.import_sources import open_source
from gnomon.mlflow_compat.importing import (
    COMPLETE_TAG,
    MLFLOW_RUN_TAG,
    MLFLOW_USER_TAG,
    import_mlflow,
)
from gnomon.tracking.entities import Lifecycle, Run, RunStatus
from tests.fixtures.mlflow_client import run_mlflow_script

T0 = 1_700_000_000_000
LOSS = [1.0, math.nan, math.inf, -math.inf, 0.25]

# Writes the same experiments into a file store and a SQLite store, then prints, per store,
# each run as MLflow reads it back.
MAKE_STORES = r"""
import json, math, os
from pathlib import Path
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

T0, LOSS = 1_700_000_000_000, [1.0, math.nan, math.inf, -math.inf, 0.25]
root = Path.cwd()
files = root / "files"
(files / "plots" / "deep").mkdir(parents=True)
(files / "model.bin").write_bytes(bytes(range(256)) * 3)
(files / "plots" / "b.txt").write_text("b")
(files / "plots" / "deep" / "a.bin").write_bytes(b"\x00a\xff")


def fill(c):
    train = c.create_experiment("train", tags={"team": "vision"})
    old = c.create_experiment("old")
    tags = {"mlflow.note.content": "the parent", "unicode": "ünïcode ✓"}
    parent = c.create_run(train, run_name="parent", start_time=T0, tags=tags).info.run_id
    loss = [Metric("loss", v, T0 + 100 + i, i) for i, v in enumerate(LOSS)]
    acc = [Metric("val/acc", 0.5, T0 + 500, 0), Metric("val/acc", 0.75, T0 + 600, 0)]
    params = [Param("lr", "0.1"), Param("layers", "3"), Param("taux_précision", "1")]
    c.log_batch(parent, metrics=loss + acc, params=params)
    c.log_metric(parent, "perte_é", 1.0, timestamp=T0 + 700)
    c.log_artifact(parent, str(files / "model.bin"))
    c.log_artifacts(parent, str(files / "plots"), "plots")
    c.set_terminated(parent, "FINISHED", end_time=T0 + 9000)
    child = c.create_run(train, run_name="child", start_time=T0 + 1000,
                         tags={"mlflow.parentRunId": parent}).info.run_id
    c.log_param(child, "fold", "2")
    c.set_terminated(child, "FAILED", end_time=T0 + 2000)
    gone = c.create_run(train, run_name="gone", start_time=T0 + 3000).info.run_id
    c.set_terminated(gone, "FINISHED", end_time=T0 + 4000)
    c.delete_run(gone)
    running = c.create_run(old, run_name="open", start_time=T0 + 5000).info.run_id
    c.log_metric(running, "x", 2.0, timestamp=T0 + 5100, step=5)
    c.delete_experiment(old)
    return {
        run.info.run_name: {
            "id": run.info.run_id, "status": run.info.status, "user": run.info.user_id,
            "start": run.info.start_time, "end": run.info.end_time,
            "deleted": run.info.lifecycle_stage == "deleted",
            "params": run.data.params, "tags": run.data.tags,
        }
        for run in (c.get_run(r) for r in (parent, child, gone, running))
    }


out = {}
for kind, folder, uri in (
    ("file", root / "file", (root / "file" / "mlruns").as_uri()),
    ("sqlite", root / "sql", "sqlite:///" + str(root / "sql" / "mlflow.db")),
):
    folder.mkdir()
    os.chdir(folder)  # a SQLite store keeps artifacts under ./mlruns
    out[kind] = {"uri": uri, "folder": str(folder), "runs": fill(MlflowClient(uri))}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def stores(mlflow_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both stores, made once per module (MLflow takes seconds to start and migrate SQLite);
    the importer only reads them."""
    root = tmp_path_factory.mktemp("mlflow-stores")
    allow = {"MLFLOW_ALLOW_FILE_STORE": "true"}  # MLflow 3 keeps its file store on request
    out = run_mlflow_script(mlflow_python, MAKE_STORES, allow, root)
    found: dict[str, Any] = json.loads(out.splitlines()[-1])
    found["files"] = root / "files"
    return found


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    return gnomon.Client()


def gnomon_import(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["import", "mlflow", *args, "--output", "json"])
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def imported_runs(client: gnomon.Client) -> list[Run]:
    found: list[Run] = []
    for experiment in client.list_experiments(include_deleted=True).items:
        found += client.search_runs(experiment=experiment.id, include_deleted=True).items
    return found


def snapshot(client: gnomon.Client) -> dict[str, Any]:
    """Everything the import wrote, with each metric's whole history (NaN as its repr)."""
    return {
        run.id: (
            run,
            {
                key: [
                    (m.step, m.timestamp, repr(m.value))
                    for m in client.get_metric_history(run.id, key)
                ]
                for key in run.metrics
            },
        )
        for run in imported_runs(client)
    }


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_a_store_is_copied_exactly_and_a_second_import_adds_nothing(
    kind: str, stores: dict[str, Any], client: gnomon.Client, tmp_path: Path
) -> None:
    store = stores[kind]
    source = store["runs"]
    # A SQL store has no folder of its own: its artifacts are read from the one named.
    allowed = ["--artifacts-root", store["folder"]] if kind == "sqlite" else []
    summary = gnomon_import("--from", store["uri"], *allowed)

    assert (summary["experiments_created"], summary["runs_imported"]) == (3, 4)
    assert (summary["params"], summary["metric_points"], summary["artifact_files"]) == (3, 8, 3)
    assert summary["artifact_bytes"] == 768 + 1 + 3 and summary["complete"] is True
    skipped = {s["kind"]: s["reason"] for s in summary["skipped"]}
    assert skipped.keys() == {"experiment tags", "param", "metric"}, summary["skipped"]
    assert skipped["experiment tags"] == "gnomon experiments keep no tags"
    assert skipped["param"].startswith("param key 'taux_pr\\xe9cision' has characters")
    assert skipped["metric"].startswith("metric key 'perte_\\xe9' has characters")
    experiments = {e.name: e for e in client.list_experiments(include_deleted=True).items}
    assert experiments["old"].lifecycle is Lifecycle.DELETED
    assert experiments["train"].lifecycle is Lifecycle.ACTIVE

    runs = {summary["run_ids"][r["id"]]: r for r in source.values()}
    by_name = {}
    for run in imported_runs(client):
        expected = runs[run.id]
        by_name[run.name] = run
        assert run.tags[MLFLOW_RUN_TAG] == expected["id"]
        assert run.status.value == expected["status"]
        assert (run.start_time, run.end_time) == (expected["start"], expected["end"])
        assert run.user == client.scope.principal  # the importing user, as for any client
        assert run.tags[MLFLOW_USER_TAG] == expected["user"]
        assert (run.lifecycle is Lifecycle.DELETED) == expected["deleted"]
        assert run.params == {k: v for k, v in expected["params"].items() if k != "taux_précision"}
        mlflow_tags = {k: v for k, v in run.tags.items() if not k.startswith("gnomon.import.")}
        assert mlflow_tags == {
            k: v for k, v in expected["tags"].items() if k != "mlflow.parentRunId"
        }
    assert by_name["child"].parent_run_id == by_name["parent"].id
    assert by_name["parent"].description == "the parent"

    parent = by_name["parent"].id
    loss = client.get_metric_history(parent, "loss")
    assert [(m.step, m.timestamp) for m in loss] == [(i, T0 + 100 + i) for i in range(5)]
    assert [repr(m.value) for m in loss] == [repr(v) for v in LOSS]
    acc = client.get_metric_history(parent, "val/acc")
    assert [(m.value, m.step, m.timestamp) for m in acc] == [
        (0.5, 0, T0 + 500),
        (0.75, 0, T0 + 600),
    ]
    assert [(m.value, m.step) for m in client.get_metric_history(by_name["open"].id, "x")] == [
        (2.0, 5)
    ]
    assert by_name["open"].status is RunStatus.RUNNING

    copied = client.download_artifacts(parent, dst=tmp_path / "copied")
    made = stores["files"]
    assert (copied / "model.bin").read_bytes() == (made / "model.bin").read_bytes()
    for relative in ("b.txt", "deep/a.bin"):
        assert (copied / "plots" / relative).read_bytes() == (
            made / "plots" / relative
        ).read_bytes()

    before = snapshot(client)
    again = gnomon_import("--from", store["uri"], *allowed)
    assert (again["runs_imported"], again["runs_already_imported"]) == (0, 4)
    assert (again["params"], again["metric_points"], again["artifact_files"]) == (0, 0, 0)
    assert again["run_ids"] == summary["run_ids"]
    assert snapshot(client) == before


class Interrupt(Exception):
    """Stands for Ctrl-C arriving part way through a run."""


def test_an_interrupted_import_finishes_on_the_next_without_duplicates(
    stores: dict[str, Any], client: gnomon.Client, tmp_path: Path
) -> None:
    store = stores["sqlite"]
    database = tmp_path / "mlflow.db"  # a copy, changed below; its runs' artifacts stay put
    shutil.copy(store["uri"].removeprefix("sqlite:///"), database)
    uri = f"sqlite:///{database}"
    calls = 0

    def interrupt_in_the_first_run(done: int, total: int | None) -> None:
        # The first call reports the start; the second comes once the first run's values are
        # written, before its artifacts and its completion mark.
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Interrupt

    allowed = Path(store["folder"])
    source = open_source(uri)
    with pytest.raises(Interrupt):
        import_mlflow(
            client.tracking,
            client.scope,
            source,
            on_progress=interrupt_in_the_first_run,
            artifacts_root=allowed,
        )
    source.close()
    [half] = imported_runs(client)
    assert half.status is RunStatus.RUNNING and COMPLETE_TAG not in half.tags
    assert half.params == {"lr": "0.1", "layers": "3"} and client.list_artifacts(half.id) == []

    # The source changed meanwhile: that run cannot be finished, the others are imported.
    set_lr(database, "0.2")
    args = ["import", "mlflow", "--from", uri, "--artifacts-root", str(allowed)]
    result = CliRunner().invoke(app, [*args, "--output", "json"])
    assert result.exit_code == 1, result.output
    stuck = json.loads(result.stdout)
    assert (stuck["complete"], stuck["runs_imported"], stuck["runs_resumed"]) == (False, 3, 0)
    [incomplete] = stuck["incomplete"]
    assert incomplete["subject"] == f"run {half.tags[MLFLOW_RUN_TAG]}"
    assert "'lr'" in incomplete["reason"] and "0.2" in incomplete["reason"]

    set_lr(database, "0.1")
    summary = gnomon_import("--from", uri, "--artifacts-root", str(allowed))
    assert (summary["runs_resumed"], summary["runs_already_imported"]) == (1, 3)
    runs = imported_runs(client)
    assert sorted(r.tags[MLFLOW_RUN_TAG] for r in runs) == sorted(
        r["id"] for r in store["runs"].values()
    )
    finished = client.get_run(half.id)
    assert finished.status is RunStatus.FINISHED and finished.end_time == T0 + 9000
    loss = client.get_metric_history(half.id, "loss")  # sent three times, stored once
    assert [repr(m.value) for m in loss] == [repr(v) for v in LOSS]
    assert sorted(a.path for a in client.list_artifacts(half.id)) == ["model.bin", "plots"]


def set_lr(database: Path, value: str) -> None:
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE params SET value = ? WHERE key = 'lr'", (value,))
    conn.close()


@pytest.mark.usefixtures("gnomon_home")
def test_bad_sources_and_filters_are_refused_with_the_reason(
    stores: dict[str, Any], tmp_path: Path
) -> None:
    def error(*args: str) -> str:
        result = CliRunner().invoke(app, ["import", "mlflow", *args])
        assert result.exit_code == 1, result.output
        return result.stderr.strip()

    assert "not an MLflow file store" in error("--from", str(tmp_path))
    assert "not found" in error("--from", f"sqlite:///{tmp_path / 'none.db'}")
    assert "cannot reach the MLflow server" in error("--from", "http://127.0.0.1:9")
    database = stores["sqlite"]["uri"].removeprefix("sqlite:///")
    assert "is a file: for a SQLite store, write sqlite:///" in error("--from", database)
    uri = stores["file"]["uri"]
    assert "no experiment named 'nope'" in error("--from", uri, "--experiment", "nope")

    only = gnomon_import("--from", uri, "--experiment", "train")
    assert (only["experiments_created"], only["runs_imported"]) == (1, 3)
