"""The API server's error handlers: every error is answered by the one error writer
(:func:`gnomon.web.errors.error_response`), never with a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Scope

from gnomon.errors import GnomonError, InvalidInput, NotFound, PayloadTooLarge, Unauthenticated
from gnomon.web.errors import error_response
from gnomon.wire import invalid_request

logger = logging.getLogger("gnomon.server")

_HTTP_ERRORS: dict[int, type[GnomonError]] = {
    401: Unauthenticated,
    404: NotFound,
    413: PayloadTooLarge,
}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GnomonError, _gnomon_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


async def _gnomon_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GnomonError)
    return error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    malformed = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if malformed is not None:
        message = f"malformed JSON body: {malformed.get('msg', 'invalid')}"
        return error_response(InvalidInput(message), 400)
    return error_response(invalid_request(errors))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    cls = _HTTP_ERRORS.get(exc.status_code, InvalidInput)
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return error_response(cls(message), exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Only what fails outside ErrorBoundary (in the outermost middleware) still gets here.
    return internal_error(request.scope, exc)


def internal_error(scope: Scope, exc: BaseException) -> Response:
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


async def answer_unexpected(scope: Scope, exc: Exception) -> Response:
    """The API server's answer for :class:`~gnomon.web.boundary.ErrorBoundary`."""
    return internal_error(scope, exc)
