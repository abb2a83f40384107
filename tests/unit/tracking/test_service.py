"""Validation and rules of the tracking service, through the SDK Client (embedded)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import gnomon
from gnomon.errors import Conflict, InvalidInput, NotFound
from gnomon.tracking.entities import Metric, RunStatus


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    return gnomon.Client()


@pytest.fixture
def run_id(client: gnomon.Client) -> str:
    exp = client.create_experiment("svc")
    return client.create_run(exp.id, "r").id


@pytest.mark.parametrize(
    "key", ["", "a" * 251, "bad'quote", "semi;colon", "back`tick", " pad", "a..b"]
)
def test_bad_keys_are_refused_naming_the_key(client: gnomon.Client, run_id: str, key: str) -> None:
    with pytest.raises(InvalidInput, match="metric key"):
        client.log_metric(run_id, key, 1.0)
    with pytest.raises(InvalidInput, match="param key"):
        client.log_param(run_id, key, 1)
    assert client.get_run(run_id).metrics == {}


@pytest.mark.parametrize("value", ["0.5", None, True, [1], object()])
def test_metric_values_must_be_numbers(client: gnomon.Client, run_id: str, value: object) -> None:
    with pytest.raises(InvalidInput, match="metric 'acc' must be a number"):
        client.log_metric(run_id, "acc", value)  # type: ignore[arg-type]


def test_a_bad_item_leaves_nothing_half_written(client: gnomon.Client, run_id: str) -> None:
    with pytest.raises(InvalidInput, match="'bad'"):
        client.log_batch(
            run_id,
            metrics=[Metric("good", 1.0), Metric("bad", "x")],  # type: ignore[arg-type]
            params={"p": 1},
        )
    run = client.get_run(run_id)
    assert (run.metrics, run.params) == ({}, {})


def test_numpy_and_int_values_are_accepted(client: gnomon.Client, run_id: str) -> None:
    import numpy as np

    client.log_batch(run_id, metrics=[Metric("a", np.float32(0.5)), Metric("b", 3)])
    assert client.get_run(run_id).metrics == {"a": 0.5, "b": 3.0}


@pytest.mark.parametrize("count", [1, 3, 512, 1027])
def test_a_batch_of_any_size_is_stored_whole_and_in_order(
    client: gnomon.Client, run_id: str, count: int
) -> None:
    # SQLite takes points as multi-row INSERTs of 512, 256, ... rows: every size must add up.
    points = [Metric("loss", 1.0 / (s + 1), s, 1_000 + s) for s in range(count)]
    client.log_batch(run_id, metrics=points[::-1])
    history = client.get_metric_history(run_id, "loss")
    assert [(p.step, p.value, p.timestamp) for p in history] == [
        (p.step, p.value, p.timestamp) for p in points
    ]


def test_params_become_strings(client: gnomon.Client, run_id: str) -> None:
    client.log_batch(run_id, params={"n": 100, "lr": 0.1, "none": None, "nan": math.nan})
    assert client.get_run(run_id).params == {"n": "100", "lr": "0.1", "none": "None", "nan": "nan"}


def test_over_long_values(client: gnomon.Client, run_id: str) -> None:
    with pytest.raises(InvalidInput, match="param 'p' value is 6001 characters"):
        client.log_param(run_id, "p", "x" * 6001)
    with pytest.raises(InvalidInput, match="tag 't' value"):
        client.set_tag(run_id, "t", "x" * 8001)


def test_experiment_names(client: gnomon.Client) -> None:
    for bad in ["", "  ", " lead", "x" * 257, "tab\there"]:
        with pytest.raises(InvalidInput):
            client.create_experiment(bad)
    with pytest.raises(NotFound, match="'nope'"):
        client.get_experiment("nope")


def test_end_run_status(client: gnomon.Client, run_id: str) -> None:
    with pytest.raises(InvalidInput, match="unknown run status 'DONE'"):
        client.end_run(run_id, "DONE")
    with pytest.raises(InvalidInput, match="not RUNNING"):
        client.end_run(run_id, RunStatus.RUNNING)
    assert client.end_run(run_id, "killed").status is RunStatus.KILLED


def test_artifacts_round_trip(client: gnomon.Client, run_id: str, tmp_path: Path) -> None:
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "roc.txt").write_text("roc")
    (tmp_path / "model.bin").write_bytes(b"\x00\x01")
    assert client.log_artifact(run_id, tmp_path / "model.bin") == "model.bin"
    client.log_artifact(run_id, tmp_path / "plots", "charts")
    listed = {(a.path, a.is_dir) for a in client.list_artifacts(run_id)}
    assert listed == {("model.bin", False), ("charts", True)}
    local = client.download_artifacts(run_id, "charts", tmp_path / "out")
    assert (local / "plots" / "roc.txt").read_text() == "roc"
    everything = client.download_artifacts(run_id)
    assert (everything / "model.bin").read_bytes() == b"\x00\x01"
    assert (everything / "charts" / "plots" / "roc.txt").read_text() == "roc"
    with pytest.raises(NotFound):
        client.log_artifact(run_id, tmp_path / "missing.txt")
    client.end_run(run_id)
    with pytest.raises(Conflict, match="FINISHED"):
        client.log_artifact(run_id, tmp_path / "model.bin")


def test_search_needs_known_experiments(client: gnomon.Client) -> None:
    with pytest.raises(NotFound, match="'ghost'"):
        client.search_runs("ghost")
    with pytest.raises(InvalidInput, match="at least one experiment"):
        client.search_runs([])


def test_an_unknown_experiment_suggests_the_closest_name(client: gnomon.Client) -> None:
    client.create_experiment("churn")
    client.create_experiment("fraud")
    with pytest.raises(NotFound, match=r"^experiment 'chrun' not found; did you mean 'churn'\?$"):
        client.search_runs("chrun")
    with pytest.raises(NotFound, match=r"^experiment 'zebra' not found$"):  # nothing close
        client.search_runs("zebra")


def test_an_unknown_experiment_is_named_in_part(client: gnomon.Client) -> None:
    client.create_experiment("churn")
    with pytest.raises(
        NotFound, match=r"^experiment 'xxx.*\.\.\. \(10002 characters\) not found$"
    ) as caught:
        client.search_runs("x" * 10_000)
    assert len(caught.value.message) < 200


def test_unknown_workspace(gnomon_home: Path) -> None:
    with pytest.raises(NotFound, match="workspace 'elsewhere'"):
        gnomon.Client(workspace="elsewhere")


def test_get_or_create_survives_a_concurrent_create(client: gnomon.Client) -> None:
    service = client.tracking
    original = service.get_experiment_by_name
    calls = []

    def racing(scope, name):  # type: ignore[no-untyped-def]
        calls.append(name)
        if len(calls) == 1:  # first look: absent; meanwhile someone else creates it
            service.store.create_experiment(scope, name, "/tmp/elsewhere")
            raise NotFound(f"experiment {name!r} not found")
        return original(scope, name)

    service.get_experiment_by_name = racing  # type: ignore[method-assign]
    exp = service.get_or_create_experiment(client.scope, "contested")
    assert exp.name == "contested" and len(calls) == 2
