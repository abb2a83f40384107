"""One place writes error responses: ``{"error": {"code", "message", "details"}}``, never a
traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import Scope

from gnomon.errors import (
    GnomonError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
)

logger = logging.getLogger("gnomon.server")

_HTTP_ERRORS: dict[int, type[GnomonError]] = {
    401: Unauthenticated,
    404: NotFound,
    413: PayloadTooLarge,
}


def error_response(error: GnomonError, status: int | None = None) -> JSONResponse:
    # A throttled client learns when to come back in the standard header too.
    retry = error.retry_after if isinstance(error, RateLimited) else None
    headers = None if retry is None else {"Retry-After": str(retry)}
    return JSONResponse(
        _encodable(error.to_payload()), status_code=status or error.status, headers=headers
    )


def _encodable(value: Any) -> Any:
    """``value`` with every string encodable as UTF-8: a lone surrogate (from a client's
    JSON escape or a non-UTF-8 file name) is written as ``\\udXXX`` instead of crashing the
    handler that reports the error."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encodable(v) for v in value]
    return value


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GnomonError, _gnomon_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


async def _gnomon_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GnomonError)
    return error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(e) for e in exc.errors()]
    if any(p["type"] == "json_invalid" for p in problems):
        first = next(p for p in problems if p["type"] == "json_invalid")
        return error_response(InvalidInput(f"malformed JSON body: {first['message']}"), 400)
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    return error_response(InvalidInput(f"invalid request: {summary}", {"errors": problems}))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    cls = _HTTP_ERRORS.get(exc.status_code, InvalidInput)
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return error_response(cls(message), exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Only what fails outside ErrorBoundary (in the outermost middleware) still gets here.
    return internal_error(request.scope, exc)


def internal_error(scope: Scope, exc: BaseException) -> JSONResponse:
    """Log ``exc`` with its traceback; the caller gets a request id to quote, nothing more."""
    request_id = scope.get("state", {}).get("request_id", "-")
    logger.error(
        "unexpected error in %s %s (request %s)",
        scope.get("method"),
        scope.get("path"),
        request_id,
        exc_info=exc,
    )
    message = f"internal error; quote request id {request_id} to the operator"
    return error_response(GnomonError(message, {"request_id": request_id}), 500)


async def answer_unexpected(scope: Scope, exc: Exception) -> JSONResponse:
    """The API server's answer for :class:`~gnomon.server.boundary.ErrorBoundary`."""
    return internal_error(scope, exc)


def _problem(error: Any) -> dict[str, Any]:
    location = [str(part) for part in error.get("loc", ())]
    if location and location[0] in ("body", "query", "path", "header"):
        where, field = location[0], ".".join(location[1:])
    else:
        where, field = "body", ".".join(location)
    return {
        "type": error.get("type", ""),
        "in": where,
        "field": field or where,
        "message": error.get("msg", "invalid"),
    }
