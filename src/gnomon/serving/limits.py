"""Request body limits of the model server, enforced before and while a body is read.

Every route has a limit: ``/predict``, ``/invocations`` and ``/outcomes`` that of
:class:`BodyLimits` (``GNOMON_SERVE_MAX_BODY_BYTES``), every other route a small one, since it
reads no body. A ``Content-Length`` over the limit is answered 413 before a byte of the body
is read; a body without one (chunked) is counted as it streams in, and reading stops with the
same 413 as soon as the count passes the limit, so no route ever buffers more than its limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gnomon.errors import PayloadTooLarge

if TYPE_CHECKING:
    from starlette.responses import Response

    from gnomon.config import Settings

MAX_BODY_BYTES: Final = 16 * 2**20
BODY_ROUTES: Final = frozenset({"/predict", "/invocations", "/outcomes"})


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """How much a model server reads of each request.

    Args:
        body_bytes: the largest body of ``/predict``, ``/invocations`` and ``/outcomes``.
        other_bytes: the largest body of any other route (none of them reads one).
        inline_bytes: bodies up to this size are parsed and checked on the event loop, where
            a one-row request is fastest; larger ones on a worker thread, so that a big
            request never holds up the others.
    """

    body_bytes: int = MAX_BODY_BYTES
    other_bytes: int = 64 * 2**10
    inline_bytes: int = 64 * 2**10

    @classmethod
    def from_settings(cls, settings: Settings) -> BodyLimits:
        return cls(body_bytes=settings.serve_max_body_bytes)

    def of(self, path: str) -> int:
        return self.body_bytes if path in BODY_ROUTES else self.other_bytes


Respond = Callable[[Request, Exception], Awaitable["Response"]]


def body_limit(app: ASGIApp, limits: BodyLimits, respond: Respond) -> ASGIApp:
    """Wrap ``app`` so that no request body beyond its route's limit is read.

    ``respond`` writes the error (the app's own error handler), for the declared-size case,
    answered here before the app runs; past the limit mid-stream, reading raises
    :class:`~gnomon.errors.PayloadTooLarge` inside the handler, which the app answers itself.
    """

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        limit = limits.of(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            response = await respond(Request(scope), _too_large(scope["path"], limit))
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _too_large(scope["path"], limit)
            return message

        await app(scope, counted, send)

    return asgi


def _too_large(path: str, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body of {path} is over the limit of {limit} bytes",
        {"limit": limit},
    )


def _content_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            # isascii: "²" passes isdigit() but not int(); the server refuses a bad one anyway.
            return int(text) if text.isascii() and text.isdigit() else None
    return None


__all__ = ["BODY_ROUTES", "MAX_BODY_BYTES", "BodyLimits", "body_limit"]
