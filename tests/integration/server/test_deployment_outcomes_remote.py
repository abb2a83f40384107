"""Outcomes and records through a live server: the HTTP client gives what the embedded one
gives, big loads go in chunks, bad bodies get 422s naming the field, and outcome values stay
out of the audit log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import gnomon
from gnomon._types import Scope
from gnomon.artifacts import ArtifactStore
from gnomon.deployments.http import HttpDeploymentClient
from gnomon.deployments.service import DeploymentService
from gnomon.errors import InvalidInput, NotFound
from gnomon.predictions.entities import PredictionRecord
from gnomon.predictions.parquet import PARQUET_TYPE, from_parquet
from gnomon.predictions.reading import read_outcomes
from gnomon.predictions.records import RecordWriter
from gnomon.predictions.storage import predictions_store
from gnomon.registry.entities import NewVersion
from gnomon.server.access import LOCAL_ADMIN
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.server import LiveServer


@dataclass
class Remote:
    deployments: HttpDeploymentClient
    service: DeploymentService  # the server's
    scope: Scope
    store: ArtifactStore  # the workspace's serving store, as the server computes it
    http: httpx.Client  # raw calls, in the workspace


@pytest.fixture
def remote(open_server: LiveServer, tmp_path: Path) -> Iterator[Remote]:
    """A fresh workspace (its name is its id) with deployment ``web`` and records r0-r4."""
    services = open_server.services
    assert services.database is not None and services.registry and services.deployments
    scope = fresh_workspace(services.database)
    services.registry.create_version(scope, "churn", NewVersion("import:c", "/tmp/c", "ann"))
    services.deployments.create(scope, "web", "churn/1")
    store = predictions_store(open_server.settings.artifact_root, scope.workspace)
    start = int(time.time() * 1000)
    writer = RecordWriter(store)
    writer.submit(
        [
            PredictionRecord(f"r{i}", start + i, "web", "churn", 1, {"x": i}, [i, 0.5], 1.25)
            for i in range(5)
        ]
    )
    writer.close()
    settings = gnomon.Settings(uri=open_server.url, workspace=scope.workspace, home=tmp_path)
    deployments = gnomon.Client(settings=settings).deployments
    assert isinstance(deployments, HttpDeploymentClient)
    headers = {"X-Gnomon-Workspace": scope.workspace}
    with httpx.Client(base_url=f"{open_server.url}/api/v1", headers=headers) as http:
        yield Remote(deployments, services.deployments, scope, store, http)


def test_outcomes_and_records_round_trip_as_embedded(remote: Remote) -> None:
    frame = pd.DataFrame({"request_id": ["r1", "r3"], "value": [1, 0]})
    assert remote.deployments.log_outcomes("web", frame) == 2
    assert remote.deployments.log_outcomes("web", [{"request_id": "r4", "value": {"a": 1}}]) == 1

    found = remote.deployments.records("web")
    assert found["outcome"].tolist() == [None, 1, None, 0, {"a": 1}]
    embedded = remote.service.records(remote.scope, remote.store, "web")
    pd.testing.assert_frame_equal(found, embedded)  # types survive the trip

    newest = remote.deployments.records("web", limit=2, with_outcomes=False)
    expected = remote.service.records(
        remote.scope, remote.store, "web", limit=2, with_outcomes=False
    )
    assert newest["request_id"].tolist() == ["r3", "r4"]
    pd.testing.assert_frame_equal(newest, expected)


def test_a_big_load_goes_in_chunks_and_is_audited_by_count(
    remote: Remote, open_server: LiveServer
) -> None:
    outcomes = {f"q{i}": i for i in range(25_000)}
    assert remote.deployments.log_outcomes("web", outcomes) == 25_000
    stored = read_outcomes(remote.store, deployment="web")
    assert len(stored) == 25_000 and stored["value"].sum() == sum(outcomes.values())

    auth = open_server.services.auth
    assert auth is not None
    events = auth.list_audit(LOCAL_ADMIN, remote.scope.workspace, action="deployment_outcomes")
    assert sorted(e.details["count"] for e in events.items) == [5_000, 10_000, 10_000]
    assert all(set(e.details) == {"count"} and e.object_id == "web" for e in events.items)


def test_the_client_names_a_bad_item_by_its_index_in_the_whole_load(remote: Remote) -> None:
    outcomes: dict[str, Any] = {f"q{i}": i for i in range(15_000)}
    outcomes["q12345"] = None
    with pytest.raises(InvalidInput, match=r"outcome 12345 .* has no value"):
        remote.deployments.log_outcomes("web", outcomes)
    assert read_outcomes(remote.store, deployment="web").empty  # nothing sent


def test_an_unknown_deployment_is_404(remote: Remote) -> None:
    with pytest.raises(NotFound, match="deployment 'nope' not found"):
        remote.deployments.log_outcomes("nope", {"r0": 1})
    with pytest.raises(NotFound, match="deployment 'nope' not found"):
        remote.deployments.log_outcomes("nope", {})
    with pytest.raises(NotFound, match="deployment 'nope' not found"):
        remote.deployments.records("nope")
    assert remote.http.get("/deployments/nope/records").status_code == 404
    answer = remote.http.post("/deployments/nope/outcomes", json={"outcomes": []})
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "outcomes"),
        ({"outcomes": "r0=1"}, "outcomes"),
        ({"outcomes": [{"request_id": 5, "value": 1}]}, "outcomes.0.request_id"),
        (
            {"outcomes": [{"request_id": "r0", "value": 1}, {"request_id": "r1"}]},
            "outcomes.1.value",
        ),
        ({"outcomes": [{"request_id": "r0", "value": 1, "time": 3}]}, "outcomes.0.time"),
        ({"outcomes": [], "extra": 1}, "extra"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(remote: Remote, body: Any, field: str) -> None:
    answer = remote.http.post("/deployments/web/outcomes", json=body)
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["error"]["details"]["errors"]]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"request_id": "", "value": 1}, "outcome 0: request_id must be a non-empty string"),
        ({"request_id": "r0", "value": None}, "outcome 0 (request 'r0') has no value"),
    ],
)
def test_bad_values_are_422_with_the_sdk_message(
    remote: Remote, item: dict[str, Any], message: str
) -> None:
    answer = remote.http.post("/deployments/web/outcomes", json={"outcomes": [item]})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["message"].startswith(message)


def test_malformed_json_is_400(remote: Remote) -> None:
    answer = remote.http.post(
        "/deployments/web/outcomes", content=b"{", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400


def test_over_the_per_request_limit_is_refused(remote: Remote) -> None:
    items = [{"request_id": f"q{i}", "value": 1} for i in range(10_001)]
    answer = remote.http.post("/deployments/web/outcomes", json={"outcomes": items})
    assert answer.status_code in (413, 422), answer.text
    assert read_outcomes(remote.store, deployment="web").empty


def test_the_records_route_answers_parquet(remote: Remote) -> None:
    remote.deployments.log_outcomes("web", {"r4": 1})
    answer = remote.http.get("/deployments/web/records", params={"limit": 2})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == PARQUET_TYPE
    frame = from_parquet(answer.content)
    assert frame["request_id"].tolist() == ["r3", "r4"] and frame["outcome"].tolist() == [None, 1]
    assert str(frame["time"].dtype) == "datetime64[ms, UTC]"
    plain = from_parquet(remote.http.get("/deployments/web/records?outcomes=false").content)
    assert "outcome" not in plain.columns and len(plain) == 5


@pytest.mark.parametrize("query", ["limit=0", "limit=100001", "limit=ten", "outcomes=maybe"])
def test_bad_records_queries_are_422(remote: Remote, query: str) -> None:
    answer = remote.http.get(f"/deployments/web/records?{query}")
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"]["errors"][0]["in"] == "query"
