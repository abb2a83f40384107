"""The log context: one per request or worker step, what is noted reaches every line of it,
and the HTTP transport sends its id on."""

from __future__ import annotations

import asyncio
import threading

import httpx

from gnomon.client.transport import Transport
from gnomon.logs.context import current, log_context, note, start_command


def test_a_context_holds_for_its_block_only_and_nests() -> None:
    assert current() is None
    with log_context("outer", workspace="w1") as outer:
        assert current() is outer and outer.request_id == "outer"
        with log_context(object="monitors/m") as inner:
            assert current() is inner and inner.workspace is None
            assert inner.request_id and inner.request_id != "outer"
        assert current() is outer
    assert current() is None


def test_what_a_worker_thread_notes_reaches_the_request_lines() -> None:
    # The API server admits a caller on a worker thread, whose context is a copy: the
    # request's lines written afterwards on the event loop must still name the user.
    async def request() -> tuple[str | None, str | None]:
        with log_context("r1") as context:
            await asyncio.to_thread(note, user="alice", workspace="w-id")
            note(object="runs/3f2a")
            return context.user, context.object

    assert asyncio.run(request()) == ("alice", "runs/3f2a")


def test_note_outside_any_context_changes_nothing() -> None:
    note(user="nobody")
    assert current() is None


def test_a_new_thread_starts_outside_the_context() -> None:
    # A worker's loops run in threads: each step opens its own context.
    seen: list[object] = []
    with log_context("main"):
        thread = threading.Thread(target=lambda: seen.append(current()))
        thread.start()
        thread.join()
    assert seen == [None]


def test_the_transport_sends_the_request_id_of_its_context() -> None:
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    transport = Transport("http://gnomon.test", http_transport=httpx.MockTransport(handle))
    transport.request("GET", "/workspace")
    with log_context("tick-42"):
        transport.request("GET", "/workspace")
        transport.request("GET", "/workspace", headers={"X-Request-ID": "chosen"})
    assert "x-request-id" not in sent[0].headers
    assert sent[1].headers["x-request-id"] == "tick-42"
    assert sent[2].headers["x-request-id"] == "chosen"  # a caller's own id is kept


def test_a_command_keeps_one_context_for_the_rest_of_its_thread() -> None:
    # Set in a thread of its own: it is never reset, as it ends with the command's process.
    seen: list[object] = []

    def command() -> None:
        started = start_command()
        with log_context("request-inside"):
            pass
        seen.extend([started, current()])

    thread = threading.Thread(target=command)
    thread.start()
    thread.join()
    assert seen[0] is seen[1] and len(seen[0].request_id) == 32  # type: ignore[attr-defined]
    assert current() is None
