"""Retries and error decoding of the HTTP transport (httpx's MockTransport stands in for the
network: the one place a fake is allowed)."""

from __future__ import annotations

import json

import httpx
import pytest

from gnomon.client.transport import Transport, body, key_path, segment
from gnomon.errors import (
    Conflict,
    GnomonError,
    InvalidInput,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from gnomon.registry.schemas import CreateModel, ModelVersionOut, RegisteredModelOut
from gnomon.wire import Wire
from tests.fixtures.server import LiveServer


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


# -- the wire helpers -------------------------------------------------------------------------

MODEL = {
    "id": "m1",
    "workspace_id": "w1",
    "name": "churn",
    "description": "",
    "created_time": 1,
    "updated_time": 2,
    "tags": {},
    "latest_version": None,
    "aliases": {},
}


def test_a_request_model_is_sent_whole_and_the_answer_parsed() -> None:
    calls: list[httpx.Request] = []
    transport = _transport([httpx.Response(201, json=MODEL)], calls)
    new = body(CreateModel, name="churn", tags={"team": "growth"})
    found = transport.one("POST", "/models", RegisteredModelOut, json=new)
    assert found.entity().name == "churn"
    sent = json.loads(calls[0].content)
    assert sent == {"name": "churn", "description": "", "tags": {"team": "growth"}}


class Nullable(Wire):
    batching: bool | None  # required, and may be null: nulls must travel


def test_nulls_are_sent_not_dropped() -> None:
    calls: list[httpx.Request] = []
    transport = _transport([httpx.Response(204)], calls)
    transport.request("PUT", "/x", json=body(Nullable, batching=None))
    assert json.loads(calls[0].content) == {"batching": None}


def test_a_body_the_server_would_refuse_is_refused_before_sending_naming_the_field() -> None:
    with pytest.raises(InvalidInput, match=r"invalid request: name: .*NUL") as error:
        body(CreateModel, name="a\x00b")
    assert [p["field"] for p in error.value.details["errors"]] == ["name"]


def test_a_page_is_parsed_item_by_item() -> None:
    calls: list[httpx.Request] = []
    answer = {"items": [MODEL, {**MODEL, "name": "fraud"}], "next_page_token": "t"}
    transport = _transport([httpx.Response(200, json=answer)], calls)
    page = transport.page("/models", RegisteredModelOut, params={"max_results": 2})
    assert [m.name for m in page] == ["churn", "fraud"] and page.next_page_token == "t"
    assert calls[0].url.params["max_results"] == "2"


def test_an_answer_this_client_cannot_read_is_an_error_naming_the_call() -> None:
    calls: list[httpx.Request] = []
    transport = _transport(
        [httpx.Response(200, json={"name": "churn"}), httpx.Response(200, json=[1])], calls
    )
    with pytest.raises(GnomonError, match="answer to GET /models/churn is not what"):
        transport.one("GET", "/models/churn", ModelVersionOut)
    with pytest.raises(GnomonError, match="answer to GET /models is not what"):
        transport.page("/models", RegisteredModelOut)


def test_a_list_answer_is_parsed_item_by_item() -> None:
    calls: list[httpx.Request] = []
    answers = [httpx.Response(200, json=[MODEL, {**MODEL, "name": "fraud"}])]
    transport = _transport([*answers, httpx.Response(200, json={"items": []})], calls)
    found = transport.many("GET", "/models", RegisteredModelOut, params={"q": "c"})
    assert [m.name for m in found] == ["churn", "fraud"] and calls[0].url.params["q"] == "c"
    with pytest.raises(GnomonError, match=r"answer to GET /models is not what.*not a list"):
        transport.many("GET", "/models", RegisteredModelOut)


def test_a_refused_body_reads_as_the_servers_422(open_server: LiveServer) -> None:
    # One "invalid request" text (gnomon.wire.invalid_request), whoever refuses the body.
    with pytest.raises(InvalidInput) as here:
        body(CreateModel, name="a\x00b", tags={"k": "\ud800"})
    sent = json.dumps({"name": "a\x00b", "tags": {"k": "\ud800"}})  # ASCII: escapes travel
    transport = Transport(open_server.url)
    with pytest.raises(InvalidInput) as there:
        transport.request(
            "POST", "/models", content=sent, headers={"content-type": "application/json"}
        )
    transport.close()
    assert (str(here.value), here.value.details) == (str(there.value), there.value.details)
    assert str(here.value).startswith("invalid request: name: ")


def test_a_view_in_another_workspace_shares_the_connection() -> None:
    calls: list[httpx.Request] = []
    transport = _transport([httpx.Response(204)] * 3, calls)
    view = transport.in_workspace("other")
    view.request("GET", "/x")
    view.request("GET", "/x", workspace="third")
    transport.request("GET", "/x")
    assert [c.headers["x-gnomon-workspace"] for c in calls] == ["other", "third", "team"]
    assert transport.in_workspace(None) is transport and view._http is transport._http


@pytest.mark.parametrize(
    ("value", "as_segment", "as_key"),
    [
        ("churn", "churn", "churn"),
        ("a b/c", "a%20b%2Fc", "a%20b/c"),
        ("50%?#@", "50%25%3F%23%40", "50%25%3F%23%40"),
    ],
)
def test_path_parts_are_escaped(value: str, as_segment: str, as_key: str) -> None:
    assert segment(value) == as_segment
    assert key_path(value) == as_key


@pytest.mark.parametrize("value", [".", ".."])
def test_dot_steps_never_become_a_path_to_another_route(value: str) -> None:
    # httpx would normalise /models/.. to /, reaching a route nobody named.
    with pytest.raises(InvalidInput, match="relative path step"):
        segment(value)
    with pytest.raises(InvalidInput, match="relative path step"):
        key_path(f"tags/{value}/x")
    assert segment(".hidden") == ".hidden" and key_path("a/.b/c") == "a/.b/c"


class _Cut(httpx.SyncByteStream):
    """A body whose connection is lost after its first chunk."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield b"first part"
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def test_a_download_cut_midway_is_unavailable_not_an_httpx_error() -> None:
    transport = _transport([httpx.Response(200, stream=_Cut())], [])
    received = []
    with (
        pytest.raises(Unavailable, match="during a download"),
        transport.stream("GET", "/files/x") as response,
    ):
        for chunk in response.iter_bytes():
            received.append(chunk)
    assert received == [b"first part"]
    cut_before = _transport([httpx.ConnectError("refused")], [])
    with pytest.raises(Unavailable), cut_before.stream("GET", "/files/x"):
        pass
