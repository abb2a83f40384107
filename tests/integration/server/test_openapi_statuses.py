"""The OpenAPI document lists every status a route can answer, each error with the error body,
so a client (or a fuzzer) can hold the server to it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from jsonschema import validate
from openapi_spec_validator import validate as validate_spec

from gnomon.server.access import Access, route_access
from gnomon.server.app import mounted_routers
from tests.fixtures.server import ADMIN_PASSWORD, LiveServer

WORKSPACE_LEVELS = {Access.VIEWER, Access.EDITOR, Access.WORKSPACE_ADMIN}
ERROR_REF = "#/components/schemas/ErrorBody"


@pytest.fixture(scope="module")
def spec(auth_server: LiveServer) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"{auth_server.url}/openapi.json").json()
    return document


def _access_levels() -> dict[tuple[str, str], Access | None]:
    """(method, path as the spec writes it) → the route's declared access level."""
    found = {}
    for prefix, router in mounted_routers():
        for route in router.routes:
            assert isinstance(route, APIRoute)
            path = re.sub(r":\w+\}", "}", prefix + route.path)
            for method in route.methods or ():
                found[(method.lower(), path)] = route_access(route)
    return found


def _implied(method: str, path: str, operation: dict[str, Any], level: Access | None) -> set[int]:
    """What the access level, the method, the path and the body imply, as the issue states."""
    statuses = {500, 503}
    if level is not Access.PUBLIC:
        statuses |= {401, 403}
    if level in WORKSPACE_LEVELS or operation.get("parameters") or "requestBody" in operation:
        statuses.add(404)  # the workspace, or an object a parameter or the body names
    if "{" in path:
        statuses.add(405)  # a path parameter holding "/" names another path
    body = operation.get("requestBody")
    if body:
        statuses |= {413, 422}
        if "application/json" in body["content"]:
            statuses.add(400)
    if operation.get("parameters"):
        statuses.add(422)
    if method != "get":
        statuses.add(409)
    return statuses


def test_the_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate_spec(spec)


def test_every_route_lists_the_statuses_it_implies_with_the_error_body(
    spec: dict[str, Any],
) -> None:
    levels = _access_levels()
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            listed = {int(code) for code in responses}
            lacking = _implied(method, path, operation, levels[(method, path)]) - listed
            if lacking:
                missing.append(f"{method.upper()} {path}: {sorted(lacking)}")
            for code, response in responses.items():
                if int(code) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": ERROR_REF}, (method, path, code)
    assert missing == []


def test_upload_routes_document_their_file_body(spec: dict[str, Any]) -> None:
    artifact = spec["paths"]["/api/v1/runs/{run_id}/artifacts/{path}"]["put"]
    model = spec["paths"]["/api/v1/models/{name}/import"]["post"]
    assert "application/octet-stream" in artifact["requestBody"]["content"]
    assert "application/gzip" in model["requestBody"]["content"]
    assert {"413", "401"} <= set(artifact["responses"]) & set(model["responses"])


def _call(http: httpx.Client, method: str, path: str, token: str | None, body: bytes) -> Any:
    url = re.sub(r"\{\w+\}", "no-such-thing", path)
    headers = {"content-type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return http.request(method, url, headers=headers, content=body or None)


def test_what_the_server_answers_is_in_the_document(
    auth_server: LiveServer, spec: dict[str, Any]
) -> None:
    """Every route, called anonymously, and as the administrator with an empty or a malformed
    body: each status is listed, each error body fits the schema."""
    error_body = spec["components"]["schemas"]["ErrorBody"]
    undocumented = []
    with httpx.Client(base_url=auth_server.url) as http:
        login = {"username": "admin", "password": ADMIN_PASSWORD}
        token = http.post("/api/v1/auth/login", json=login).json()["token"]
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                for caller, body in ((None, b""), (token, b"{}"), (token, b"{not json")):
                    response = _call(http, method.upper(), path, caller, body)
                    status = response.status_code
                    if str(status) not in operation["responses"]:
                        undocumented.append(f"{method.upper()} {path}: {status} {response.text}")
                    elif status >= 400:
                        validate(response.json(), error_body)
    assert undocumented == []
