"""The OpenAPI document lists every error a route can answer, each with the error body.

The statuses follow from what is known about each route: its access level, its method, its
path parameters and whether it takes a body. A route may declare more with FastAPI's
``responses=`` (login declares 401 and 429); they get the same error body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI

from gnomon.server.access import WORKSPACE_LEVELS, Access
from gnomon.server.guard import RouteRule

ERROR_BODY = "ErrorBody"
_REF = f"#/components/schemas/{ERROR_BODY}"
_SCHEMA: dict[str, Any] = {
    "title": ERROR_BODY,
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "stable code; see docs/errors.md"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": True},
            },
        }
    },
}
DESCRIPTIONS = {
    400: "Malformed JSON body",
    401: "No bearer token, or one that is unknown, revoked or expired",
    403: "The caller's role does not allow this",
    404: "No such workspace or object, or one the caller may not see",
    405: "A path parameter holding '/' names another path, which does not take this method",
    409: "The name is taken, or the object's state forbids the change",
    413: "The request body is over the limit",
    422: "Invalid input; details.errors names each field",
    429: "Too many failed attempts; retry after Retry-After seconds",
    500: "Internal error; details.request_id identifies it in the server log",
    503: "A backend (database, artifact store) is unavailable",
}
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def error_statuses(rule: RouteRule, method: str) -> set[int]:
    """Every error status ``method`` on ``rule`` can answer."""
    statuses = {500, 503}
    route = rule.route
    if rule.access is not Access.PUBLIC:
        statuses |= {401, 403, 422, 429}  # 422: a malformed workspace name, say
    named = route.dependant.path_params or route.dependant.query_params or rule.takes_body
    if rule.access in WORKSPACE_LEVELS or named:
        statuses.add(404)  # the workspace, or an object a parameter or the body names
    if route.dependant.path_params:
        statuses.add(405)  # a parameter holding "/" names another path
    if rule.takes_body:
        statuses |= {413, 422}
    if route.body_field is not None:
        statuses.add(400)
    if route.dependant.query_params or route.dependant.path_params:
        statuses.add(422)
    if method in _WRITES:
        statuses.add(409)
    return statuses


def spec_path(path: str) -> str:
    """A route's path as the OpenAPI document writes it: without converters (``{p:path}``)."""
    return re.sub(r":\w+\}", "}", path)


def document_errors(app: FastAPI, rules: Iterable[RouteRule]) -> None:
    """Make ``app.openapi()`` list each route's error statuses with the error body schema."""
    build: Callable[[], dict[str, Any]] = app.openapi
    rules = list(rules)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_errors(build(), rules)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _with_errors(spec: dict[str, Any], rules: list[RouteRule]) -> dict[str, Any]:
    spec.setdefault("components", {}).setdefault("schemas", {})[ERROR_BODY] = _SCHEMA
    for rule in rules:
        operations = spec["paths"].get(spec_path(rule.path), {})
        for method in rule.route.methods or ():
            operation = operations.get(method.lower())
            if operation is not None:
                _document(operation, error_statuses(rule, method))
    return spec


def _document(operation: dict[str, Any], statuses: set[int]) -> None:
    responses = operation.setdefault("responses", {})
    declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
    for status in sorted(statuses | declared):
        response = responses.setdefault(str(status), {})
        response.setdefault("description", DESCRIPTIONS.get(status, "Error"))
        # Also replaces FastAPI's own 422 body, which this server never sends.
        response["content"] = {"application/json": {"schema": {"$ref": _REF}}}
