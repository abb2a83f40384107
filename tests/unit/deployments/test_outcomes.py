"""Outcomes and prediction records through ``client.deployments`` and ``gnomon deploy``,
embedded: outcomes land in the workspace's predictions store, where the model server's records
are, and join them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

import gnomon
from gnomon.artifacts import ArtifactStore
from gnomon.config import Settings
from gnomon.deployments.client import DeploymentClient
from gnomon.errors import InvalidInput, NotFound
from gnomon.predictions.entities import PredictionRecord
from gnomon.predictions.outcomes import MAX_OUTCOMES, MAX_VALUE_DEPTH
from gnomon.predictions.parquet import from_parquet, to_parquet
from gnomon.predictions.reading import read_outcomes
from gnomon.predictions.records import RecordWriter
from gnomon.predictions.storage import predictions_store
from gnomon.registry.entities import NewVersion
from tests.fixtures.cli import fails, ok
from tests.fixtures.server import run_uvicorn


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    """Deployment ``web`` of churn/1, in the embedded store."""
    client = gnomon.Client()
    registry = client.registry.service
    registry.create_version(client.scope, "churn", NewVersion("import:c", "/tmp/c", "ann"))
    client.deployments.create("web", "churn/1")
    return client


@pytest.fixture
def deployments(client: gnomon.Client) -> DeploymentClient:
    return client.deployments


def serving(client: gnomon.Client) -> ArtifactStore:
    """Where ``gnomon serve`` keeps records (gnomon.serving.loading.build_app): by the
    workspace's id, which the embedded client's scope holds."""
    return predictions_store(client.settings.artifact_root, client.scope.workspace)


def write_records(client: gnomon.Client, count: int, deployment: str = "web") -> list[str]:
    """``count`` records r0, r1… one millisecond apart, as a model server writes them."""
    start = int(time.time() * 1000)
    records = [
        PredictionRecord(
            f"r{i}", start + i, deployment, "churn", 1, {"x": i, "city": "oslo"}, i % 2, 2.5
        )
        for i in range(count)
    ]
    writer = RecordWriter(serving(client))
    writer.submit(records)
    writer.close()
    return [r.request_id for r in records]


# -- log_outcomes ----------------------------------------------------------------------------


def test_outcomes_in_every_shape_join_the_records(
    client: gnomon.Client, deployments: DeploymentClient
) -> None:
    write_records(client, 5)
    assert deployments.log_outcomes("web", {"r0": 1, "r1": {"label": "churned"}}) == 2
    assert deployments.log_outcomes("web", [{"request_id": "r2", "value": [0, 1]}]) == 1
    frame = pd.DataFrame({"request_id": ["r3"], "value": [np.int64(7)]})
    assert deployments.log_outcomes("web", frame) == 1

    found = deployments.records("web")
    assert found["request_id"].tolist() == ["r0", "r1", "r2", "r3", "r4"]
    assert found["outcome"].tolist() == [1, {"label": "churned"}, [0, 1], 7, None]
    assert found["outcome_time"].notna().tolist() == [True, True, True, True, False]
    assert found["inputs"][0] == {"x": 0, "city": "oslo"}
    assert str(found["model_version"].dtype) == "Int64"


def test_outcomes_are_where_the_model_server_writes_them(
    client: gnomon.Client, deployments: DeploymentClient
) -> None:
    deployments.log_outcomes("web", {"r9": 0.25})
    stored = read_outcomes(serving(client), deployment="web")
    assert stored[["request_id", "value", "deployment"]].values.tolist() == [["r9", 0.25, "web"]]


def test_a_later_outcome_replaces_an_earlier_one(
    client: gnomon.Client, deployments: DeploymentClient
) -> None:
    write_records(client, 1)
    deployments.log_outcomes("web", {"r0": 0})
    time.sleep(0.01)  # a later write, by the clock the join orders by
    deployments.log_outcomes("web", {"r0": 1})
    assert deployments.records("web")["outcome"].tolist() == [1]


def test_nothing_to_log_is_zero(deployments: DeploymentClient) -> None:
    assert deployments.log_outcomes("web", {}) == 0
    assert deployments.log_outcomes("web", pd.DataFrame({"request_id": [], "value": []})) == 0


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("outcomes", "message"),
    [
        ({"r0": 1, "": 2}, "outcome 1: request_id must be a non-empty string"),
        # Refused as the API server's schema refuses it (gnomon.checks.text_problem).
        ({"r0": 1, "r\x001": 2}, "outcome 1: request_id must be a non-empty string"),
        # Values the writer could not store: accepted, they would fail the file they share.
        ({"r0": _nested(MAX_VALUE_DEPTH), "r1": _nested(MAX_VALUE_DEPTH + 1)}, "outcome 1"),
        ({"r0": [1, 10**30]}, "outcome 0 (request 'r0'): the value cannot be stored as JSON"),
        ([{"request_id": "r0", "value": 1}, {"request_id": 3, "value": 1}], "outcome 1"),
        ([{"request_id": "r0", "value": 1}, {"value": 1}], "outcome 1: request_id"),
        ([{"request_id": "r0"}], "outcome 0 (request 'r0') has no value"),
        ({"r0": None}, "outcome 0 (request 'r0') has no value"),
        ({"r0": 1, "r1": float("nan")}, "outcome 1 (request 'r1') has no value"),
        (pd.DataFrame({"request_id": ["a", "b"], "value": [1.0, None]}), "outcome 1"),
        (pd.DataFrame({"request_id": ["a"], "label": [1]}), "no value column"),
        ([("r0", 1)], "outcome 0 must be a"),
        ("r0=1", "outcomes must be a mapping"),
        (None, "outcomes must be a mapping"),
    ],
)
def test_bad_outcomes_are_refused_naming_the_first_bad_item(
    client: gnomon.Client, deployments: DeploymentClient, outcomes: Any, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        deployments.log_outcomes("web", outcomes)
    assert read_outcomes(serving(client)).empty  # not even the good items before it


def test_at_most_100000_outcomes_per_call(deployments: DeploymentClient) -> None:
    too_many = {f"r{i}": 1 for i in range(MAX_OUTCOMES + 1)}
    with pytest.raises(InvalidInput, match="at most 100000 outcomes per call, got 100001"):
        deployments.log_outcomes("web", too_many)


def test_an_unknown_deployment_is_not_found(deployments: DeploymentClient) -> None:
    with pytest.raises(NotFound, match="deployment 'nope' not found"):
        deployments.log_outcomes("nope", {"r0": 1})
    with pytest.raises(NotFound, match="deployment 'nope' not found"):
        deployments.records("nope")


# -- records ---------------------------------------------------------------------------------


def test_records_are_the_newest_first_in_time_order(
    client: gnomon.Client, deployments: DeploymentClient
) -> None:
    write_records(client, 5)
    write_records(client, 2, deployment="other")  # another deployment's stay out
    deployments.log_outcomes("web", {"r4": 1})
    newest = deployments.records("web", limit=2)
    assert newest["request_id"].tolist() == ["r3", "r4"]
    assert newest["outcome"].tolist() == [None, 1]
    plain = deployments.records("web", with_outcomes=False)
    assert "outcome" not in plain.columns and len(plain) == 5


def test_a_deployment_without_records_has_an_empty_frame(deployments: DeploymentClient) -> None:
    found = deployments.records("web")
    assert found.empty
    assert {"request_id", "time", "inputs", "outputs", "outcome", "outcome_time"} <= set(
        found.columns
    )


@pytest.mark.parametrize("limit", [0, -1, True, "5", 2.0])
def test_a_bad_limit_is_refused(deployments: DeploymentClient, limit: Any) -> None:
    with pytest.raises(InvalidInput, match="limit must be a positive integer"):
        deployments.records("web", limit=limit)


def test_records_keep_their_types_through_parquet(
    client: gnomon.Client, deployments: DeploymentClient
) -> None:
    write_records(client, 3)
    deployments.log_outcomes("web", {"r1": {"a": [1, None]}})
    for frame in (
        deployments.records("web"),
        deployments.records("web", with_outcomes=False),
        deployments.records("web", limit=1),
    ):
        pd.testing.assert_frame_equal(from_parquet(to_parquet(frame)), frame)
    empty = deployments.records("web").iloc[0:0]
    pd.testing.assert_frame_equal(from_parquet(to_parquet(empty)), empty)


# -- with the real model server --------------------------------------------------------------


class Doubler:
    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(frame["x"] * 2)


@pytest.fixture
def served(gnomon_home: Path) -> Iterator[tuple[str, gnomon.Client]]:
    """Deployment ``api`` of a real model, served by gnomon's model server app."""
    from gnomon.serving.loading import ServeOptions, build_app

    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with gnomon.start_run():
        uri = gnomon.log_model(Doubler(), "model", input_example=frame)
    gnomon.register_model(uri, "doubler")
    client = gnomon.get_client()
    client.deployments.create("api", "doubler/1")
    app = build_app(ServeOptions(deployment="api"), Settings())
    with run_uvicorn(app, lifespan="on") as url:
        yield url, client


def test_a_workspace_keeps_its_records_under_its_id_not_its_name(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model server is started by workspace name; what it writes lands under the id, where
    the SDK of that workspace reads it (a renamed workspace keeps its records)."""
    from sqlalchemy import insert

    from gnomon._types import now_ms
    from gnomon.auth.tables import workspaces
    from gnomon.serving.loading import ServeOptions, build_app
    from gnomon.store.database import Database

    gnomon.Client()  # creates the embedded store
    workspace_id = "0b5e" * 8  # an id as auth makes them (32 hex digits)
    with Database(Settings().store_uri).write() as conn:
        conn.execute(insert(workspaces).values(id=workspace_id, name="team", created_time=now_ms()))
    monkeypatch.setenv("GNOMON_WORKSPACE", "team")
    with gnomon.start_run():
        uri = gnomon.log_model(Doubler(), "model", input_example=pd.DataFrame({"x": [1.0, 2.0]}))
    gnomon.register_model(uri, "doubler")
    client = gnomon.get_client()
    client.deployments.create("api", "doubler/1")

    with run_uvicorn(build_app(ServeOptions(deployment="api"), Settings()), lifespan="on") as url:
        answer = httpx.post(f"{url}/predict", json={"records": [{"x": 1.0}]})
        assert answer.status_code == 200, answer.text
    # Shutting the server down wrote its records.
    records = client.deployments.records("api")
    assert records["request_id"].tolist() == [answer.json()["request_id"]]
    artifacts = Path(Settings().artifact_root)
    assert (artifacts / workspace_id / "predictions" / "records").is_dir()
    assert not (artifacts / "team").exists()


def test_outcomes_from_the_sdk_and_the_server_join_its_records(
    served: tuple[str, gnomon.Client],
) -> None:
    url, client = served
    ids = []
    for x in (1.0, 1.5, 2.0):  # within the range the input example declares
        answer = httpx.post(f"{url}/predict", json={"records": [{"x": x}]})
        assert answer.status_code == 200, answer.text
        ids.append(answer.json()["request_id"])
    posted = httpx.post(f"{url}/outcomes", json={"request_id": ids[0], "value": 2.5})
    assert posted.status_code == 202, posted.text
    assert client.deployments.log_outcomes("api", {ids[1]: 4.0}) == 1

    deadline = time.monotonic() + 15  # the server writes its records and outcomes each second
    while True:
        found = client.deployments.records("api")
        if len(found) == 3 and found["outcome"].notna().sum() == 2:
            break
        assert time.monotonic() < deadline, found
        time.sleep(0.1)
    joined = dict(zip(found["request_id"], found["outcome"], strict=True))
    assert joined == {ids[0]: 2.5, ids[1]: 4.0, ids[2]: None}
    assert found["outputs"].tolist() == [2.0, 3.0, 4.0]


# -- the CLI ---------------------------------------------------------------------------------


def test_cli_logs_outcomes_from_csv_and_parquet(
    client: gnomon.Client, deployments: DeploymentClient, tmp_path: Path
) -> None:
    write_records(client, 3)
    csv = tmp_path / "truth.csv"
    csv.write_text("id,label\n0001,1\nr1,0\n")  # ids stay text: 0001 is not the number 1
    columns = ("--id-column", "id", "--value-column", "label")
    out = ok("deploy", "outcomes", "web", "--file", str(csv), *columns)
    assert out.strip() == "logged 2 outcomes for deployment 'web'"
    parquet = tmp_path / "truth.parquet"
    pd.DataFrame({"request_id": ["r2"], "value": [0.5]}).to_parquet(parquet)
    assert "logged 1 outcomes" in ok("deploy", "outcomes", "web", "--file", str(parquet))

    stored = read_outcomes(serving(client), deployment="web")
    assert sorted(stored["request_id"]) == ["0001", "r1", "r2"]
    found = deployments.records("web")
    assert found["outcome"].tolist() == [None, 0, 0.5]


def test_cli_refuses_bad_outcome_files(deployments: DeploymentClient, tmp_path: Path) -> None:
    csv = tmp_path / "truth.csv"
    csv.write_text("request_id,label\nr0,1\n")
    assert "has no column 'value'" in fails("deploy", "outcomes", "web", "--file", str(csv))
    csv.write_text("request_id,value\nr0,1\n,2\n")
    assert "outcome 1: request_id" in fails("deploy", "outcomes", "web", "--file", str(csv))
    text = tmp_path / "truth.txt"
    text.write_text("x")
    assert ".csv or .parquet" in fails("deploy", "outcomes", "web", "--file", str(text))
    missing = str(tmp_path / "nope.csv")
    assert "no such file" in fails("deploy", "outcomes", "web", "--file", missing)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    assert "could not read" in fails("deploy", "outcomes", "web", "--file", str(broken))
    csv.write_text("request_id,value\nr0,1\n")
    assert "deployment 'nope' not found" in fails("deploy", "outcomes", "nope", "--file", str(csv))


def test_cli_shows_the_newest_records_with_outcomes(
    client: gnomon.Client, deployments: DeploymentClient
) -> None:
    write_records(client, 4)
    deployments.log_outcomes("web", {"r3": "churned"})
    table = ok("deploy", "records", "web", "--last", "2")
    assert "r2" in table and "r3" in table and "r1" not in table
    assert "churn/1" in table and '"churned"' in table and "2.5" in table

    rows = json.loads(ok("deploy", "records", "web", "--output", "json"))
    assert [r["request_id"] for r in rows] == ["r0", "r1", "r2", "r3"]
    assert rows[3]["outcome"] == "churned" and rows[0]["outcome"] is None
    assert rows[0]["inputs"] == {"x": 0, "city": "oslo"} and rows[0]["model_version"] == 1
    assert rows[0]["outcome_time"] is None and rows[3]["outcome_time"].startswith("20")

    assert "limit must be a positive integer" in fails("deploy", "records", "web", "--last", "0")
    assert "deployment 'nope' not found" in fails("deploy", "records", "nope")


def test_cli_says_when_there_are_no_records(deployments: DeploymentClient) -> None:
    assert "no records of deployment 'web' yet" in ok("deploy", "records", "web")
