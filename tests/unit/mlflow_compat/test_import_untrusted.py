"""``gnomon import mlflow`` reading a store written by someone else: artifact locations and
links that point out of the store, hand-edited rows, and experiments that already exist.

The stores are written by hand in MLflow's formats (no MLflow needed), each holding what a
careless or hostile writer could put there; nothing outside the allowed folders may be read.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import gnomon
from gnomon.cli.app import app
from gnomon.mlflow_compat.import_artifacts import NO_ROOT
from gnomon.mlflow_compat.import_confined import LINK
from gnomon.mlflow_compat.importing import MLFLOW_USER_TAG
from gnomon.tracking.entities import Lifecycle, Run

SECRET = "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRET\n"
T0 = 1_700_000_000_000


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    return gnomon.Client()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A folder outside every store, holding what must never be imported."""
    folder = tmp_path / "victim"
    folder.mkdir()
    (folder / "id_ed25519").write_text(SECRET)
    return folder


def import_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["import", "mlflow", *args, "--output", "json"])
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def skipped(summary: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(s["kind"], s["subject"], s["reason"]) for s in summary["skipped"]}


def everything(client: gnomon.Client, tmp_path: Path) -> str:
    """Every value and artifact byte the import wrote, as one text to search."""
    found = []
    for experiment in client.list_experiments(include_deleted=True).items:
        for run in client.search_runs(experiment=experiment.id, include_deleted=True).items:
            found += [*run.params.values(), *run.tags.values()]
            copied = client.download_artifacts(run.id, dst=tmp_path / "copied" / run.id)
            found += [p.read_text("latin-1") for p in copied.rglob("*") if p.is_file()]
    return "\n".join(found)


def runs_of(client: gnomon.Client, name: str) -> list[Run]:
    experiment = client.get_experiment(name)
    return list(client.search_runs(experiment=experiment.id, include_deleted=True).items)


# -- a file store ----------------------------------------------------------------------------


def experiment(store: Path, experiment_id: str, name: str, deleted: bool = False) -> Path:
    folder = store / (".trash" if deleted else "") / experiment_id
    folder.mkdir(parents=True)
    stage = "deleted" if deleted else "active"
    (folder / "meta.yaml").write_text(
        f"experiment_id: '{experiment_id}'\nname: {name}\nlifecycle_stage: {stage}\n"
    )
    return folder


def run(folder: Path, run_id: str, artifact_uri: str | None = None) -> Path:
    """A finished run of the experiment ``folder``; its artifacts where MLflow puts them
    unless ``artifact_uri`` says otherwise."""
    uri = artifact_uri or (folder / run_id / "artifacts").as_uri()
    path = folder / run_id
    for sub in ("params", "tags", "metrics", "artifacts"):
        (path / sub).mkdir(parents=True)
    (path / "meta.yaml").write_text(
        f"run_id: {run_id}\nexperiment_id: '{folder.name}'\nstatus: 3\nstart_time: {T0}\n"
        f"end_time: {T0 + 1}\nuser_id: admin\nlifecycle_stage: active\nartifact_uri: {uri}\n"
    )
    return path


def test_a_file_store_is_read_only_inside_its_folder_and_never_through_a_link(
    client: gnomon.Client, secret: Path, tmp_path: Path
) -> None:
    store = tmp_path / "mlruns"
    folder = experiment(store, "1", "innocent")
    elsewhere = run(folder, "a" * 32, secret.as_uri())  # a location out of the store
    run(folder, "b" * 32, f"{folder}/{'b' * 32}/artifacts/../../../../victim")
    linked = run(folder, "c" * 32)  # every file and folder of this one is a link
    os.symlink(secret / "id_ed25519", linked / "params" / "key")
    os.symlink(secret / "id_ed25519", linked / "tags" / "note")
    os.symlink(secret / "id_ed25519", linked / "metrics" / "loss")
    (linked / "artifacts").rmdir()
    os.symlink(secret, linked / "artifacts")
    kept = run(folder, "d" * 32)  # real files are copied, links beside them are not
    (kept / "params" / "lr").write_text("0.1")
    (kept / "metrics" / "loss").write_text(f"{T0} 0.5 0")
    (kept / "artifacts" / "model.txt").write_text("weights")
    (kept / "artifacts" / "plots").mkdir()
    (kept / "artifacts" / "plots" / "a.txt").write_text("plot")
    os.symlink(secret / "id_ed25519", kept / "artifacts" / "key")
    os.symlink(secret, kept / "artifacts" / "ssh")
    os.symlink(secret, kept / "params" / "nested")
    named = run(folder, "e" * 32)  # its meta.yaml is a link: not a run to read
    os.symlink(elsewhere / "meta.yaml", tmp_path / "meta.yaml")
    (named / "meta.yaml").unlink()
    os.symlink(tmp_path / "meta.yaml", named / "meta.yaml")
    os.symlink(secret, folder / ("f" * 32))  # a run folder that is a link
    os.symlink(store / "1", store / "2")  # an experiment folder that is a link

    summary = import_json("--from", str(store))

    assert summary["runs_imported"] == 4 and summary["complete"] is True
    assert (summary["artifact_files"], summary["params"], summary["metric_points"]) == (2, 1, 1)
    assert SECRET.strip() not in everything(client, tmp_path)
    outside = f"outside the store folder; {NO_ROOT}"
    a, b, c, d = (f"run {x * 32}" for x in "abcd")
    assert skipped(summary) == {
        ("artifacts", f"{a}: {secret.as_uri()}", outside),
        ("artifacts", f"{b}: {folder}/{'b' * 32}/artifacts/../../../../victim", outside),
        ("param", f"{c}: key", LINK),
        ("tag", f"{c}: note", LINK),
        ("metric", f"{c}: loss", LINK),
        ("artifacts", f"{c}: {linked / 'artifacts'}", LINK),
        ("artifact", f"{d}: key", LINK),
        ("artifact", f"{d}: ssh", LINK),
        ("param", f"{d}: nested", LINK),
        ("run", f"1/{'e' * 32}", f"meta.yaml: {LINK}"),
        ("run", f"1/{'f' * 32}", LINK),
        ("experiment", "2", LINK),
    }
    [copied] = [r for r in runs_of(client, "innocent") if r.params]
    assert copied.params == {"lr": "0.1"}
    assert sorted(a.path for a in client.list_artifacts(copied.id, "plots")) == ["plots/a.txt"]
    assert copied.user == client.scope.principal and copied.tags[MLFLOW_USER_TAG] == "admin"


def test_a_moved_file_store_reads_its_own_artifacts_and_artifacts_root_allows_more(
    client: gnomon.Client, tmp_path: Path
) -> None:
    store = tmp_path / "mlruns"
    folder = experiment(store, "1", "moved")
    own = run(folder, "a" * 32, "file:///old/place/mlruns/1/" + "a" * 32 + "/artifacts")
    (own / "artifacts" / "model.txt").write_text("weights")
    shared = tmp_path / "shared"
    (shared / "b").mkdir(parents=True)
    (shared / "b" / "data.txt").write_text("data")
    run(folder, "b" * 32, (shared / "b").as_uri())

    first = import_json("--from", str(store), "--experiment", "moved")
    assert first["artifact_files"] == 1 and first["complete"] is True
    outside = f"outside the store folder; {NO_ROOT}"
    assert skipped(first) == {("artifacts", f"run {'b' * 32}: {(shared / 'b').as_uri()}", outside)}
    moved = first["run_ids"]["a" * 32]
    assert [a.path for a in client.list_artifacts(moved)] == ["model.txt"]

    experiment(store, "3", "again")
    run(store / "3", "c" * 32, (shared / "b").as_uri())
    second = import_json("--from", str(store), "--artifacts-root", str(shared), "-e", "again")
    assert second["artifact_files"] == 1 and second["skipped"] == []


# -- a SQL store -----------------------------------------------------------------------------

SCHEMA = """
create table experiments(experiment_id, name, lifecycle_stage);
create table runs(run_uuid, name, user_id, status, start_time, end_time, lifecycle_stage,
                  artifact_uri, experiment_id);
create table params(key, value, run_uuid);
create table tags(key, value, run_uuid);
create table metrics(key, value, timestamp, step, is_nan, run_uuid);
"""


def sql_store(path: Path, rows: dict[str, list[tuple[Any, ...]]]) -> str:
    """A SQLite store with MLflow's tables, loosely typed as a hand edit leaves them."""
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA)
        for table, values in rows.items():
            for row in values:
                conn.execute(f"insert into {table} values ({', '.join('?' * len(row))})", row)
    conn.close()
    return f"sqlite:///{path}"


def a_run(run_id: Any, artifact_uri: str | None, experiment_id: Any = 1) -> tuple[Any, ...]:
    return (run_id, "r", "admin", "FINISHED", T0, T0 + 1, "active", artifact_uri, experiment_id)


def test_a_sql_store_copies_local_artifacts_only_from_artifacts_root(
    client: gnomon.Client, secret: Path, tmp_path: Path
) -> None:
    allowed = tmp_path / "artifacts"
    (allowed / "in").mkdir(parents=True)
    (allowed / "in" / "model.txt").write_text("weights")
    os.symlink(secret / "id_ed25519", allowed / "in" / "key")
    os.symlink(secret, allowed / "linked")
    climbing = f"{allowed}/in/../../victim"
    uri = sql_store(
        tmp_path / "mlflow.db",
        {
            "experiments": [(1, "e", "active")],
            "runs": [
                a_run("r1", str(allowed / "in")),
                a_run("r2", "/etc"),
                a_run("r3", climbing),
                a_run("r4", (allowed / "linked").as_uri()),
                a_run("r5", "s3://bucket/r5/artifacts"),
            ],
        },
    )

    without = import_json("--from", uri, "-e", "e")
    assert without["artifact_files"] == 0 and without["runs_imported"] == 5
    assert {(s["subject"], s["reason"]) for s in without["skipped"]} == {
        (f"run r1: {allowed / 'in'}", NO_ROOT),
        ("run r2: /etc", NO_ROOT),
        (f"run r3: {climbing}", NO_ROOT),
        (f"run r4: {(allowed / 'linked').as_uri()}", NO_ROOT),
        (
            "run r5: s3://bucket/r5/artifacts",
            "artifacts stored at s3:// are not copied; only local folders are read",
        ),
    }

    client.delete_experiment(client.get_experiment("e").id)
    client.create_experiment("e2")
    second = uri.replace("mlflow.db", "second.db")
    sql_store(
        tmp_path / "second.db",
        {
            "experiments": [(1, "e2", "active")],
            "runs": [
                a_run("r1", str(allowed / "in")),
                a_run("r2", "/etc"),
                a_run("r3", climbing),
                a_run("r4", (allowed / "linked").as_uri()),
            ],
        },
    )
    summary = import_json("--from", second, "--artifacts-root", str(allowed))
    assert (summary["artifact_files"], summary["artifact_bytes"]) == (1, len("weights"))
    outside = "outside --artifacts-root; not read"
    assert skipped(summary) == {
        ("artifact", "run r1: key", LINK),
        ("artifacts", "run r2: /etc", outside),
        ("artifacts", f"run r3: {climbing}", outside),
        ("artifacts", f"run r4: {allowed / 'linked'}", LINK),
    }
    assert SECRET.strip() not in everything(client, tmp_path)


def test_malformed_sql_rows_are_left_out_with_the_reason(
    client: gnomon.Client, tmp_path: Path
) -> None:
    uri = sql_store(
        tmp_path / "mlflow.db",
        {
            "experiments": [("abc", "text id", "active"), (2, None, "active")],
            "runs": [
                a_run("good", None, "abc"),
                a_run(None, None, "abc"),
                ("late", "r", 7, "FINISHED", "notanint", T0, "active", 5, "abc"),
            ],
            "params": [("lr", "0.1", "good"), ("n", 3, "good"), (4, "x", "good")],
            "metrics": [("loss", 0.5, T0, 0, 0, "good"), ("loss", "high", T0, 1, 0, "good")],
        },
    )
    summary = import_json("--from", uri)

    assert summary["runs_imported"] == 2 and summary["complete"] is True
    assert skipped(summary) == {
        ("experiment", "experiment 2", "its name is None, not text; its runs are left out"),
        ("run", "a run of experiment 'text id'", "its run_uuid is None, not a run id"),
        ("start time", "run late", "not a whole number: 'notanint'"),
        ("user", "run late", "not text: 7"),
        ("artifact_uri", "run late", "not text: 5"),
        ("param", "run good: 'n'", "not text: 3"),
        ("param", "run good: 4", "key is not text: 4"),
        ("metric point", "run good: metric 'loss'", "value is not a number: 'high'"),
    }
    runs = {r.tags["gnomon.import.mlflow_run_id"]: r for r in runs_of(client, "text id")}
    assert runs["good"].params == {"lr": "0.1"}
    assert [m.value for m in client.get_metric_history(runs["good"].id, "loss")] == [0.5]
    assert MLFLOW_USER_TAG not in runs["late"].tags
    assert {r.user for r in runs.values()} == {client.scope.principal}


# -- experiments that already exist ----------------------------------------------------------


def test_only_experiments_the_import_creates_take_the_source_lifecycle(
    client: gnomon.Client, tmp_path: Path
) -> None:
    store = tmp_path / "mlruns"
    run(experiment(store, "1", "production", deleted=True), "a" * 32)
    run(experiment(store, "2", "staging"), "b" * 32)
    run(experiment(store, "3", "fresh", deleted=True), "c" * 32)
    production = client.create_experiment("production")
    staging = client.create_experiment("staging")
    client.delete_experiment(staging.id)

    summary = import_json("--from", str(store))

    assert client.get_experiment(production.id).lifecycle is Lifecycle.ACTIVE
    assert client.get_experiment(staging.id).lifecycle is Lifecycle.DELETED
    assert client.get_experiment("fresh").lifecycle is Lifecycle.DELETED
    assert [r.tags["gnomon.import.mlflow_run_id"] for r in runs_of(client, "production")] == [
        "a" * 32
    ]
    assert runs_of(client, "staging") == []
    kept = "an experiment the import did not create keeps its lifecycle"
    assert skipped(summary) == {
        ("experiment lifecycle", "experiment 'production' (deleted in MLflow, active here)", kept),
        ("experiment lifecycle", "experiment 'staging' (active in MLflow, deleted here)", kept),
        (
            "run",
            f"run {'b' * 32}",
            "experiment 'staging' is deleted in gnomon; restore it to import",
        ),
    }
    assert (summary["experiments_created"], summary["experiments_matched"]) == (1, 2)


@pytest.mark.usefixtures("gnomon_home")
def test_a_missing_artifacts_root_is_one_line(tmp_path: Path) -> None:
    store = tmp_path / "mlruns"
    experiment(store, "1", "e")
    missing = tmp_path / "nowhere"
    result = CliRunner().invoke(
        app, ["import", "mlflow", "--from", str(store), "--artifacts-root", str(missing)]
    )
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(f"--artifacts-root folder {str(missing)!r} not found")
