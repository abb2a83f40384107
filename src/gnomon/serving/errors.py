"""The model server's error answers: one JSON body for every error, never a traceback.

A :class:`~gnomon.errors.GnomonError` is answered with its own status (400 for malformed
input); anything unexpected with 503 "internal error" and the request id to quote, the
exception logged. :func:`answer_unexpected` is that answer for the shared
:class:`gnomon.server.boundary.ErrorBoundary`, which keeps the exception inside the app.
"""

from __future__ import annotations

import json
import logging
import uuid

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from gnomon.errors import GnomonError, InvalidInput, NotFound, Unavailable

logger = logging.getLogger("gnomon.serving")


async def error_response(
    request: Request, exc: Exception, status_override: int | None = None
) -> Response:
    """``exc`` as the error body, with the request id; ``Retry-After`` when it says when."""
    request_id = request.scope.get("state", {}).get("request_id", uuid.uuid4().hex)
    if isinstance(exc, GnomonError):
        status = status_override or exc.status
        if isinstance(exc, InvalidInput) and exc.details.get("malformed"):
            status = 400
        error = exc
    else:  # never a 500 to a caller of a model: 503 with the request id, the error logged
        logger.error("unexpected error (request %s)", request_id, exc_info=exc)
        error, status = Unavailable(f"internal error; quote request id {request_id}"), 503
    payload = error.to_payload()
    payload["error"]["request_id"] = request_id
    try:
        content = orjson.dumps(payload, default=str)
    except TypeError:  # a value orjson cannot write (an integer beyond 64 bits) in the details
        content = json.dumps(payload, default=str).encode()
    retry_after = error.details.get("retry_after")
    headers = {"retry-after": str(retry_after)} if isinstance(retry_after, int) else None
    return Response(content, status, headers, media_type="application/json")


async def not_found(request: Request, exc: Exception) -> Response:
    return await error_response(request, NotFound(f"no route {request.url.path}"))


async def not_allowed(request: Request, exc: Exception) -> Response:
    error = InvalidInput(f"method {request.method} is not allowed on {request.url.path}")
    return await error_response(request, error, 405)


async def answer_unexpected(scope: Scope, exc: Exception) -> Response:
    """The model server's answer for :class:`~gnomon.server.boundary.ErrorBoundary`."""
    return await error_response(Request(scope), exc)


__all__ = ["answer_unexpected", "error_response", "not_allowed", "not_found"]
