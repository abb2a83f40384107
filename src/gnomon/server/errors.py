"""One place writes error responses: ``{"error": {"code", "message", "details"}}``, never a
traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from gnomon.errors import (
    GnomonError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
)

logger = logging.getLogger("gnomon.server")

_HTTP_ERRORS: dict[int, type[GnomonError]] = {
    401: Unauthenticated,
    404: NotFound,
    413: PayloadTooLarge,
}


def error_response(error: GnomonError, status: int | None = None) -> JSONResponse:
    return JSONResponse(error.to_payload(), status_code=status or error.status)


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
    request_id = getattr(request.state, "request_id", "-")
    logger.exception(
        "unexpected error in %s %s (request %s)", request.method, request.url.path, request_id
    )
    error = GnomonError(f"internal error; quote request id {request_id} to the operator")
    return error_response(error, 500)


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
