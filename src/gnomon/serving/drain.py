"""Draining before a worker stops, so keep-alive clients never send into a closing socket.

uvicorn closes idle keep-alive connections the moment it starts shutting down; a client that
sent its next request on one at that instant gets a connection reset. On SIGTERM (which a
rolling restart sends each old worker) the worker first answers every request for
``DRAIN_S`` with ``Connection: close`` — each client finishes its request and reconnects,
reaching a live worker — and only then lets uvicorn's own handler begin the shutdown.
"""

from __future__ import annotations

import asyncio
import signal
from types import FrameType

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DRAIN_S = 1.5
SHUTDOWN_S = 10  # then uvicorn's timeout_graceful_shutdown: requests in flight get this long


class Drain:
    def __init__(self) -> None:
        self.draining = False

    def install(self) -> None:
        """Wrap the SIGTERM handler uvicorn installed; a no-op off the main thread (tests)."""
        loop = asyncio.get_running_loop()
        previous = signal.getsignal(signal.SIGTERM)
        if not callable(previous):
            return

        def on_term(signum: int, frame: FrameType | None) -> None:
            if self.draining:  # a second SIGTERM: stop now
                previous(signum, frame)
                return
            self.draining = True
            loop.call_soon_threadsafe(loop.call_later, DRAIN_S, previous, signum, frame)

        try:
            signal.signal(signal.SIGTERM, on_term)
        except ValueError:  # not the main thread: the server runs embedded (tests, notebooks)
            return

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not self.draining:
                await app(scope, receive, send)
                return

            async def closing(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = [h for h in message.get("headers", []) if h[0] != b"connection"]
                    message = {**message, "headers": [*headers, (b"connection", b"close")]}
                await send(message)

            await app(scope, receive, closing)

        return asgi
