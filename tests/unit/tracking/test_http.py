"""What ``HttpTrackingStore`` puts on the wire: escaped paths and schema-checked bodies (httpx's
MockTransport records the requests; the behaviour against a live server is the store
contract suite's, ``tests/contract/test_tracking_store.py``)."""

from __future__ import annotations

import json

import httpx
import pytest

from gnomon._types import Scope
from gnomon.client.transport import Transport
from gnomon.errors import InvalidInput
from gnomon.tracking.entities import RunStatus, RunUpdate
from gnomon.tracking.http import HttpRunArtifacts, HttpTrackingStore

SCOPE = Scope("ws", "ann")
POINT = {"key": "train/loss x", "value": "NaN", "step": 1, "timestamp": 5}


def _store(answers: list[httpx.Response], calls: list[httpx.Request]) -> HttpTrackingStore:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return answers.pop(0)

    transport = Transport("http://gnomon.test", http_transport=httpx.MockTransport(handle))
    return HttpTrackingStore(transport)


def test_a_metric_key_keeps_its_slashes_as_the_route_reads_them() -> None:
    calls: list[httpx.Request] = []
    store = _store([httpx.Response(200, json=[POINT])], calls)
    (point,) = store.get_metric_history(SCOPE, "r 1", "train/loss x")
    assert (point.key, point.step) == ("train/loss x", 1)
    assert calls[0].url.raw_path == b"/api/v1/runs/r%201/metrics/train/loss%20x/history"


def test_the_artifact_root_escapes_the_run_id() -> None:
    artifacts = HttpRunArtifacts(Transport("http://gnomon.test"), "a/b?c")
    assert artifacts.root == "http://gnomon.test/api/v1/runs/a%2Fb%3Fc/artifacts"
    artifacts.transport.close()


def test_bodies_are_the_schema_models_sent_whole() -> None:
    calls: list[httpx.Request] = []
    run = {
        "id": "r1",
        "experiment_id": "e1",
        "name": "n",
        "status": "FINISHED",
        "start_time": 1,
        "end_time": 2,
        "user": "ann",
        "artifact_uri": "x",
        "description": "",
        "parent_run_id": None,
        "lifecycle": "active",
        "params": {},
        "metrics": {},
        "tags": {},
    }
    store = _store([httpx.Response(200, json=run)], calls)
    update = RunUpdate(status=RunStatus.FINISHED, end_time=2)
    assert store.update_run(SCOPE, "r1", update).status is RunStatus.FINISHED
    sent = json.loads(calls[0].content)
    assert sent == {"name": None, "description": None, "status": "FINISHED", "end_time": 2}


def test_a_body_the_server_would_refuse_is_never_sent() -> None:
    calls: list[httpx.Request] = []
    store = _store([], calls)
    with pytest.raises(InvalidInput, match=r"invalid request: name: .*NUL"):
        store.create_experiment(SCOPE, "a\x00b", "unused")
    assert calls == []
