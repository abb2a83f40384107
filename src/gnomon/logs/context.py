"""What a log line is about: the request (or worker step) it belongs to, who made it, in
which workspace, on what object.

Each request to either server, and each monitor run, schedule tick and rollout step of a
worker, runs in a :func:`log_context` with an id of its own; the formatters read it, and the
HTTP transport sends its id as ``X-Request-ID`` so that the server's lines carry it too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

REQUEST_ID_HEADER = "X-Request-ID"


@dataclass(slots=True)
class LogContext:
    """Mutable on purpose: the API server learns the user on a worker thread, whose context
    is a copy, and what it notes must reach the lines written after it on the event loop;
    they all hold this one object."""

    request_id: str
    user: str | None = None
    workspace: str | None = None  # the workspace's id, as in every Scope
    object: str | None = None  # what the request or step is about: "runs/3f2a", "monitors/m"


_CURRENT: ContextVar[LogContext | None] = ContextVar("gnomon_log_context", default=None)


def current() -> LogContext | None:
    """The context of the request or step running here; None outside any."""
    return _CURRENT.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def log_context(
    request_id: str | None = None,
    *,
    user: str | None = None,
    workspace: str | None = None,
    object: str | None = None,
) -> Iterator[LogContext]:
    """Run the block as one request or step: its log lines carry these fields, and
    ``request_id`` (default: a new one)."""
    context = LogContext(request_id or new_request_id(), user, workspace, object)
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)


def start_command() -> LogContext:
    """A context for the rest of this thread: a command run as its own process, whose lines
    and requests share one id. Never reset: it ends with the process."""
    context = LogContext(new_request_id())
    _CURRENT.set(context)
    return context


def note(
    *, user: str | None = None, workspace: str | None = None, object: str | None = None
) -> None:
    """Add what became known to the current context (the caller once authenticated, the
    object once the route is found); outside any context, nothing happens."""
    context = _CURRENT.get()
    if context is None:
        return
    if user is not None:
        context.user = user
    if workspace is not None:
        context.workspace = workspace
    if object is not None:
        context.object = object


__all__ = [
    "REQUEST_ID_HEADER",
    "LogContext",
    "current",
    "log_context",
    "new_request_id",
    "note",
    "start_command",
]
