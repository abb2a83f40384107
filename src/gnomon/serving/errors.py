"""The model server's error answers, written by :func:`gnomon.web.errors.error_response`.

A :class:`~gnomon.errors.GnomonError` is answered with its own status (400 for malformed
input); anything unexpected with 503 "internal error" and the request id to quote, the
exception logged. Every answer carries the request id in its body.
"""

from __future__ import annotations

import logging
import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from gnomon.errors import GnomonError, InvalidInput, NotFound, Unavailable
from gnomon.web.errors import error_response

logger = logging.getLogger("gnomon.serving")


class UnsupportedMediaType(InvalidInput):
    """A body in a content type ``/invocations`` does not read: 415, as MLflow's scoring
    server answers it. Still ``invalid_input`` on the wire, so clients decode it as such."""

    status = 415


class ParamsRefused(InvalidInput):
    """Inference params for a model whose ``predict`` takes none: 400, the status MLflow's
    scoring server gives a request its model cannot take (``invalid_input`` on the wire)."""

    status = 400


async def answer_error(request: Request, exc: Exception, status: int | None = None) -> Response:
    """``exc`` as the error body, with the request id; ``Retry-After`` when it says when."""
    request_id = request.scope.get("state", {}).get("request_id", uuid.uuid4().hex)
    if isinstance(exc, GnomonError):
        error = exc
        if isinstance(exc, InvalidInput) and exc.details.get("malformed"):
            status = 400
    else:  # never a 500 to a caller of a model: 503 with the request id, the error logged
        logger.error("unexpected error (request %s)", request_id, exc_info=exc)
        error, status = Unavailable(f"internal error; quote request id {request_id}"), 503
    return error_response(error, status, request_id=request_id)


async def not_found(request: Request, exc: Exception) -> Response:
    return await answer_error(request, NotFound(f"no route {request.url.path}"))


async def not_allowed(request: Request, exc: Exception) -> Response:
    error = InvalidInput(f"method {request.method} is not allowed on {request.url.path}")
    return await answer_error(request, error, 405)


async def answer_unexpected(scope: Scope, exc: Exception) -> Response:
    """The model server's answer for :class:`~gnomon.web.boundary.ErrorBoundary`."""
    return await answer_error(Request(scope), exc)


__all__ = [
    "ParamsRefused",
    "UnsupportedMediaType",
    "answer_error",
    "answer_unexpected",
    "not_allowed",
    "not_found",
]
