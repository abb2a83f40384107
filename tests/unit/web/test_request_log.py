"""Each answered request is one access line inside its log context, and names what the
request is about."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from gnomon.logs.context import note
from gnomon.logs.formatters import JsonFormatter
from gnomon.web.middleware import HttpMetrics, ObservabilityMiddleware
from gnomon.web.request_log import object_of


@pytest.fixture
def access_lines() -> Iterator[io.StringIO]:
    """What gnomon.access and gnomon.test write at info, as JSON lines."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter("server"))
    loggers = [logging.getLogger(name) for name in ("gnomon.access", "gnomon.test")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield out
    for logger in loggers:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


async def _routed_app(scope: Scope, receive: Receive, send: Send) -> None:
    # What the API server does once a request is routed and its caller admitted.
    scope["route"] = Route("/api/v1/runs/{run_id}", lambda request: None)
    scope["path_params"] = {"run_id": "3f2a"}
    note(user="alice", workspace="w-id", object=object_of(scope))
    logging.getLogger("gnomon.test").warning("inside the request")
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _call(path: str, headers: list[tuple[bytes, bytes]]) -> list[Message]:
    app = ObservabilityMiddleware(_routed_app, HttpMetrics(CollectorRegistry()), "w-default")
    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "headers": headers,
        "client": ("10.0.0.7", 5123),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def _lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_the_access_line_carries_the_request_id_and_the_caller(access_lines: io.StringIO) -> None:
    sent = _call("/api/v1/runs/3f2a", [(b"x-request-id", b"client-chosen-1")])
    assert (b"x-request-id", b"client-chosen-1") in sent[0]["headers"]
    inside, access = _lines(access_lines)
    for line in (inside, access):
        assert line["request_id"] == "client-chosen-1"
        assert (line["user"], line["workspace"], line["object"]) == ("alice", "w-id", "runs/3f2a")
    assert access["logger"] == "gnomon.access" and access["level"] == "INFO"
    assert access["message"].startswith("GET /api/v1/runs/3f2a 404 ")
    http = access["http"]
    assert (http["method"], http["path"], http["route"], http["status"]) == (
        "GET",
        "/api/v1/runs/3f2a",
        "/api/v1/runs/{run_id}",
        404,
    )
    assert http["client"] == "10.0.0.7" and http["duration_ms"] >= 0


def test_each_request_gets_its_own_id(access_lines: io.StringIO) -> None:
    first, second = (_call("/api/v1/runs/3f2a", [])[0] for _ in range(2))
    ids = [dict(m["headers"])[b"x-request-id"].decode() for m in (first, second)]
    access = [line for line in _lines(access_lines) if line["logger"] == "gnomon.access"]
    assert [line["request_id"] for line in access] == ids and ids[0] != ids[1]


def test_a_path_a_terminal_would_act_on_is_escaped(access_lines: io.StringIO) -> None:
    _call("/x\n\x1b[2J", [])
    access = _lines(access_lines)[-1]
    assert access["http"]["path"] == "/x\\n\\x1b[2J" and "\n" not in access["message"]


@pytest.mark.parametrize(
    ("template", "params", "expected"),
    [
        ("/api/v1/runs/{run_id}", {"run_id": "3f2a"}, "runs/3f2a"),
        (
            "/api/v1/models/{name}/versions/{version}",
            {"name": "churn", "version": "3"},
            "models/churn/3",
        ),
        (
            "/api/v1/runs/{run_id}/artifacts/{path:path}",
            {"run_id": "r", "path": "a/b"},
            "runs/r/a/b",
        ),
        ("/api/v1/experiments", {}, None),
    ],
)
def test_what_a_request_is_about(template: str, params: dict[str, str], expected: str) -> None:
    scope = {"route": Route(template, lambda request: None), "path_params": params}
    assert object_of(scope) == expected


def test_an_unrouted_request_is_about_nothing_known() -> None:
    assert object_of({"type": "http", "path": "/nowhere"}) is None
