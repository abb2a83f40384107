"""``ErrorBoundary``: an unexpected exception is answered inside the app, for both servers.

Starlette re-raises whatever reaches its catch-all handler after answering, and uvicorn then
drops the client's keep-alive connection. Each server passes its own ``answer`` (the API
server's 500, the model server's 503), both with a request id and no traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("gnomon.web")

Answer = Callable[[Scope, Exception], Awaitable[Response]]


class ErrorBoundary:
    """Answers an unexpected exception with ``answer`` and keeps it inside the app.

    A response already under way cannot be changed: the exception is logged by ``answer``
    and the cut-off response ends the connection, so it is never taken as whole.
    """

    def __init__(self, app: ASGIApp, answer: Answer) -> None:
        self.app = app
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except ClientDisconnect:  # nobody is left to answer
            logger.info("client left during %s %s", scope["method"], scope["path"])
        except Exception as exc:
            response = await self.answer(scope, exc)
            if not started:
                await response(scope, receive, send)


__all__ = ["Answer", "ErrorBoundary"]
