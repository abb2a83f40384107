"""Every route of the OpenAPI spec, called by every kind of caller, answers as its declared
access level says. A route added without an access dependency fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.routing import APIRoute

from gnomon.auth.entities import Principal, Role
from gnomon.server.access import Access, access_levels
from gnomon.server.app import mounted_routers
from gnomon.server.openapi import spec_path
from gnomon.web.middleware import API_PREFIX
from tests.fixtures.server import ADMIN_PASSWORD, LiveServer

WORKSPACE = "team-a"
PASSWORD = "correct-horse-9"
IDENTITIES = ("anonymous", "viewer", "editor", "ws_admin", "outsider", "global_admin")

# Who may pass each access level (the rest get 401 anonymous, 404 outsiders, 403 others).
ALLOWED = {
    Access.PUBLIC: set(IDENTITIES),
    Access.USER: set(IDENTITIES) - {"anonymous"},
    Access.VIEWER: {"viewer", "editor", "ws_admin", "global_admin"},
    Access.EDITOR: {"editor", "ws_admin", "global_admin"},
    Access.WORKSPACE_ADMIN: {"ws_admin", "global_admin"},
    Access.GLOBAL_ADMIN: {"global_admin"},
}
WORKSPACE_LEVELS = {Access.VIEWER, Access.EDITOR, Access.WORKSPACE_ADMIN}


@dataclass
class World:
    server: LiveServer
    tokens: dict[str, str | None]
    values: dict[str, str]


def declared_access() -> dict[tuple[str, str], list[Access]]:
    """(METHOD, path) → the access levels among the route's dependencies."""
    found: dict[tuple[str, str], list[Access]] = {}
    for prefix, router in mounted_routers():
        for route in router.routes:
            assert isinstance(route, APIRoute)
            levels = access_levels(route.dependant)
            path = spec_path(prefix + route.path)
            for method in route.methods or ():
                found[(method, path)] = levels
    return found


@pytest.fixture(scope="module")
def world(auth_server: LiveServer) -> Iterator[World]:
    auth = auth_server.services.auth
    assert auth is not None
    root = Principal(user_id=auth.get_user("admin").id, name="admin", is_admin=True)
    for name in ("viewer", "editor", "ws_admin", "outsider"):
        auth.create_user(root, name, PASSWORD)
    auth.create_workspace(root, WORKSPACE)
    for name, role in (("viewer", Role.VIEWER), ("editor", Role.EDITOR), ("ws_admin", Role.ADMIN)):
        auth.add_member(root, WORKSPACE, name, role)
    auth.create_workspace(root, "team-b")
    auth.add_member(root, "team-b", "outsider", Role.ADMIN)

    tokens: dict[str, str | None] = {"anonymous": None}
    with httpx.Client(base_url=auth_server.url) as http:
        for name in IDENTITIES[1:]:
            user = "admin" if name == "global_admin" else name
            password = ADMIN_PASSWORD if name == "global_admin" else PASSWORD
            body = {"username": user, "password": password}
            tokens[name] = http.post("/api/v1/auth/login", json=body).json()["token"]
        headers = {"Authorization": f"Bearer {tokens['editor']}", "X-Gnomon-Workspace": WORKSPACE}
        exp = http.post("/api/v1/experiments", json={"name": "matrix"}, headers=headers).json()
        run = http.post("/api/v1/runs", json={"experiment_id": exp["id"]}, headers=headers).json()
    values = {
        "experiment_id": exp["id"],
        "run_id": run["id"],
        "name": "matrix",
        "key": "loss",
        "path": "notes.txt",
        "token_id": "no-such-token",
        "user": "nobody",
        "version": "1",
        "alias": "production",
        "model_id": "m-" + "0" * 32,
        "digest": "xxh128:" + "0" * 32,  # a dataset object (its upload fails the digest check)
        "rule": "high",
        "silence_id": "no-such-silence",
        "pipeline_run_id": "0" * 32,
        "ref": "pipeline-run:" + "0" * 32,  # lineage: an object the workspace lacks
        "request_id": "no-such-request",  # a prediction's lineage: none has it
        "study": "no-such-study",
        "study_id": "0" * 32,
        "rollout_id": "0" * 32,
        "kind": "view",  # a feature definition's
    }
    yield World(auth_server, tokens, values)


def test_every_route_declares_exactly_one_access_level(world: World) -> None:
    spec = httpx.get(f"{world.server.url}/openapi.json").json()
    in_spec = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    declared = declared_access()
    assert in_spec == set(declared), "routes and the OpenAPI spec disagree"
    missing = sorted(key for key, levels in declared.items() if len(levels) != 1)
    assert missing == [], f"routes without exactly one access level: {missing}"


def _client(world: World, identity: str) -> httpx.Client:
    """One keep-alive connection per caller: a new one per call would cost most of the test."""
    headers = {"X-Gnomon-Workspace": WORKSPACE}
    token = world.tokens[identity]
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=world.server.url, headers=headers)


def _call(world: World, http: httpx.Client, method: str, path: str) -> httpx.Response:
    url = re.sub(r"\{(\w+)\}", lambda m: world.values[m[1]], path)
    if method in ("POST", "PUT", "PATCH"):
        objects = (f"{API_PREFIX}/dataset-objects/{{", f"{API_PREFIX}/pipeline-objects/{{")
        if "/artifacts/" in path or path.startswith(objects):
            return http.request(method, url, content=b"data")
        return http.request(method, url, json={})
    return http.request(method, url)


@pytest.mark.parametrize("identity", IDENTITIES)
def test_permission_matrix(world: World, identity: str) -> None:
    with _client(world, identity) as http:
        failures = _check_every_route(world, identity, http)
    assert failures == []


def _check_every_route(world: World, identity: str, http: httpx.Client) -> list[str]:
    failures = []
    for (method, path), levels in sorted(declared_access().items()):
        (level,) = levels
        response = _call(world, http, method, path)
        status = response.status_code
        hidden = status == 404 and "workspace" in response.json()["error"]["message"]
        if identity in ALLOWED[level]:
            ok = status not in (401, 403) and not hidden and status < 500
            ok = ok or (level is Access.USER and status == 403)  # the service's own rule
        elif identity == "anonymous":
            ok = status == 401
        elif identity == "outsider" and level in WORKSPACE_LEVELS:
            ok = hidden  # another workspace's existence is not revealed
        else:
            ok = status == 403
        if not ok:
            failures.append(f"{method} {path} ({level}): {status} {response.text[:120]}")
    return failures


def test_the_request_workspace_is_shown_to_its_members_only(world: World) -> None:
    # GET /workspace: how a remote client learns the id its scope holds (VIEWER level).
    auth = world.server.services.auth
    assert auth is not None
    expected = {"id": auth.get_workspace(WORKSPACE).id, "name": WORKSPACE}
    for identity in IDENTITIES:
        with _client(world, identity) as http:
            answer = http.get(f"{API_PREFIX}/workspace")
        if identity in ALLOWED[Access.VIEWER]:
            assert answer.status_code == 200
            assert {k: answer.json()[k] for k in expected} == expected
        else:
            assert answer.status_code == (401 if identity == "anonymous" else 404), identity
