"""Retries and error decoding of the HTTP transport (httpx's MockTransport stands in for the
network: the one place a fake is allowed)."""

from __future__ import annotations

import httpx
import pytest

from gnomon.client.transport import Transport
from gnomon.errors import Conflict, InvalidInput, NotFound, Unauthenticated, Unavailable


def _transport(
    responses: list[httpx.Response | Exception], calls: list[httpx.Request]
) -> Transport:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        item = responses.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return Transport(
        "http://gnomon.test",
        token="gnm_x",
        workspace="team",
        backoff=0,
        http_transport=httpx.MockTransport(handle),
    )


def test_retries_connection_errors_and_5xx_then_succeeds() -> None:
    calls: list[httpx.Request] = []
    transport = _transport(
        [
            httpx.ConnectError("refused"),
            httpx.Response(503),
            httpx.Response(502),
            httpx.Response(200, json={"ok": True}),
        ],
        calls,
    )
    assert transport.request("GET", "/x") == {"ok": True}
    assert len(calls) == 4
    assert calls[0].headers["authorization"] == "Bearer gnm_x"
    assert calls[0].headers["x-gnomon-workspace"] == "team"


def test_never_retries_a_4xx() -> None:
    calls: list[httpx.Request] = []
    body = {"error": {"code": "conflict", "message": "run 'r' is FINISHED", "details": {}}}
    transport = _transport([httpx.Response(409, json=body), httpx.Response(200)], calls)
    with pytest.raises(Conflict, match="FINISHED"):
        transport.request("POST", "/x", json={})
    assert len(calls) == 1


def test_gives_up_after_the_retries() -> None:
    calls: list[httpx.Request] = []
    transport = _transport([httpx.ConnectError("refused")] * 5, calls)
    with pytest.raises(Unavailable, match="cannot reach"):
        transport.request("GET", "/x")
    assert len(calls) == 5


def test_error_bodies_become_the_same_classes() -> None:
    calls: list[httpx.Request] = []
    not_found = {"error": {"code": "not_found", "message": "run 'x' not found", "details": {}}}
    transport = _transport(
        [httpx.Response(404, json=not_found), httpx.Response(400, text="plain text")], calls
    )
    with pytest.raises(NotFound, match="run 'x' not found"):
        transport.request("GET", "/x")
    with pytest.raises(InvalidInput, match="400"):
        transport.request("GET", "/x")


def test_workspace_can_be_chosen_per_call() -> None:
    calls: list[httpx.Request] = []
    transport = _transport([httpx.Response(204)], calls)
    assert transport.request("GET", "/x", workspace="other") is None
    assert calls[0].headers["x-gnomon-workspace"] == "other"


def test_a_429_is_left_to_the_caller_with_the_wait_it_asks_for() -> None:
    calls: list[httpx.Request] = []
    limited = {"error": {"code": "unauthenticated", "message": "too many", "details": {}}}
    transport = _transport(
        [
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(429, json=limited),
        ],
        calls,
    )
    with pytest.raises(Unavailable, match="429") as plain:
        transport.request("POST", "/x", json={})
    assert plain.value.details == {"retry_after": 7.0}
    with pytest.raises(Unauthenticated, match="too many") as coded:
        transport.request("POST", "/x", json={})
    assert coded.value.details == {"retry_after": 1.0}  # no header: one second
    assert len(calls) == 2  # the transport itself retries neither


def test_a_refused_certificate_is_marked_as_not_worth_retrying() -> None:
    calls: list[httpx.Request] = []
    refused = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    transport = _transport([refused, httpx.ConnectError("refused")] * 5, calls)
    with pytest.raises(Unavailable, match="CERTIFICATE_VERIFY_FAILED") as error:
        transport.request("GET", "/x")
    assert error.value.details == {"transient": False}
    assert len(calls) == 1
