"""What the DeploymentsApi contract suite (``tests/contract/``) cannot show: a lost race in
both modes, another workspace's deployments out of reach, bad bodies as 422s naming the
field, and the CLI against a server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

import gnomon
from gnomon._types import Scope
from gnomon.auth.entities import Principal
from gnomon.cli.app import app
from gnomon.deployments.client import DeploymentClient
from gnomon.deployments.entities import Action
from gnomon.deployments.http import HttpDeploymentClient
from gnomon.deployments.service import DeploymentService
from gnomon.errors import Conflict, InvalidInput, NotFound
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.registry import seed_models
from tests.fixtures.server import LiveServer, add_tenant


@dataclass
class Setup:
    deployments: DeploymentClient  # what the test drives: embedded, or HttpDeploymentClient
    service: DeploymentService  # the one behind it (in the server when remote)
    scope: Scope


@pytest.fixture(params=["embedded", "remote"])
def setup(request: pytest.FixtureRequest, gnomon_home: Path, tmp_path: Path) -> Setup:
    if request.param == "embedded":
        client = gnomon.Client()
        deployments = client.deployments
        registry, service = client.registry.service, deployments.service
        scope = client.scope
    else:
        live: LiveServer = request.getfixturevalue("open_server")
        assert live.services.database is not None and live.services.deployments is not None
        scope = replace_principal(fresh_workspace(live.services.database), "local")
        settings = gnomon.Settings(uri=live.url, workspace=scope.workspace, home=tmp_path)
        deployments = gnomon.Client(settings=settings).deployments
        assert isinstance(deployments, HttpDeploymentClient)
        registry, service = live.services.registry, live.services.deployments
    assert registry is not None
    seed_models(registry, scope)
    return Setup(deployments, service, scope)


def replace_principal(scope: Scope, principal: str) -> Scope:
    return Scope(scope.workspace, principal)


def test_names_the_server_cannot_route_get_the_embedded_answers(setup: Setup) -> None:
    # '' would route to the listing and 'a/b' to no route at all: the client answers as the
    # service does (the rest of the API is tests/contract/deployments_api_contract.py's).
    with pytest.raises(InvalidInput, match="deployment name"):
        setup.deployments.get("")
    with pytest.raises(NotFound, match="deployment 'a/b' not found"):
        setup.deployments.delete("a/b")


def test_a_lost_race_is_a_conflict_in_both_modes(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.deployments.create("web", "churn/1")
    store = setup.service.store
    original = store.change

    def another_operator_first(scope: Scope, name: str, expected: int, *rest: Any) -> Any:
        monkeypatch.setattr(store, "change", original)  # one race only
        current = store.get(scope, name)
        original(
            scope, name, expected, Action.UPDATE, current.routing, current.config, "theirs", ""
        )
        return original(scope, name, expected, *rest)

    monkeypatch.setattr(store, "change", another_operator_first)
    with pytest.raises(Conflict, match="changed meanwhile"):
        setup.deployments.set_route("web", "churn/2", canary=10)
    found = setup.deployments.get("web")
    assert (found.revision, found.description, found.routing.candidate) == (2, "theirs", None)


# -- tenancy and audit -----------------------------------------------------------------------


def test_another_workspace_cannot_reach_a_deployment(
    auth_server: LiveServer, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    ws_a, token_a, scope_a = add_tenant(auth_server, f"a-{tag}", prefix="dep-")
    ws_b, token_b, _ = add_tenant(auth_server, f"b-{tag}", prefix="dep-")
    assert auth_server.services.registry is not None
    seed_models(auth_server.services.registry, scope_a)

    def client(token: str, workspace: str) -> DeploymentClient:
        settings = gnomon.Settings(
            uri=auth_server.url, token=token, workspace=workspace, home=tmp_path
        )
        return gnomon.Client(settings=settings).deployments

    alice = client(token_a, ws_a)
    alice.create("secret", "churn@production")
    alice.set_route("secret", "churn/2", canary=10)
    assert alice.get("secret").created_by == f"dep-user-a-{tag}"

    bob = client(token_b, ws_b)
    for call in (
        lambda: bob.get("secret"),
        lambda: bob.resolve("secret"),
        lambda: bob.history("secret"),
        lambda: bob.promote("secret"),
        lambda: bob.rollback("secret"),
        lambda: bob.remove_route("secret", "churn/2"),
        lambda: bob.delete("secret"),
    ):
        with pytest.raises(NotFound, match="deployment 'secret' not found"):
            call()
    with pytest.raises(NotFound, match="'churn'"):  # Alice's models are hers too
        bob.create("stolen", "churn@production")
    assert bob.list() == []
    # Bob naming Alice's workspace is told nothing about it.
    intruder = HttpDeploymentClient(bob.transport.in_workspace(ws_a))  # type: ignore[attr-defined]
    with pytest.raises(NotFound, match="workspace"):
        intruder.get("secret")
    assert alice.get("secret").revision == 2

    alice.promote("secret")
    alice.rollback("secret")
    alice.remove_route("secret", "churn/2")
    alice.update("secret", description="d")
    alice.delete("secret")
    auth = auth_server.services.auth
    assert auth is not None
    root = Principal(auth.get_user("admin").id, "admin", is_admin=True)
    events = auth.list_audit(root, ws_a, max_results=1000).items
    events = [e for e in events if e.object_type == "deployment"]
    trail = [(e.actor, e.action, e.object_type, e.object_id) for e in events]
    user = f"dep-user-a-{tag}"
    expected = [
        "create",
        "deployment_set_route",
        "deployment_promote",
        "deployment_rollback",
        "deployment_remove_route",
        "update",
        "delete",
    ]
    assert sorted(trail) == sorted((user, a, "deployment", "secret") for a in expected)
    revisions = {e.action: e.details.get("revision") for e in events}
    assert revisions["deployment_rollback"] == 4


# -- bad bodies ------------------------------------------------------------------------------


@pytest.fixture
def http(open_server: LiveServer) -> Iterator[httpx.Client]:
    assert open_server.services.database is not None and open_server.services.registry
    scope = fresh_workspace(open_server.services.database)
    seed_models(open_server.services.registry, scope)
    headers = {"X-Gnomon-Workspace": scope.workspace}
    with httpx.Client(base_url=f"{open_server.url}/api/v1", headers=headers) as client:
        assert client.post("/deployments", json={"name": "web", "model": "churn/1"}).is_success
        yield client


def _fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    return sorted(e["field"] for e in error["details"]["errors"])


def test_schema_violations_are_422_with_field_paths(http: httpx.Client) -> None:
    assert _fields(http.post("/deployments", json={"name": "x", "model": 3})) == ["model"]
    assert _fields(http.post("/deployments", json={"name": "x"})) == ["model"]
    body = {"name": "x", "model": "churn/1", "colour": "red"}
    assert _fields(http.post("/deployments", json=body)) == ["colour"]
    body = {"name": "x", "model": "churn/1", "config": {"policy": "warn"}}
    assert _fields(http.post("/deployments", json=body)) == [
        "config.batch_max_rows",
        "config.batch_wait_ms",
        "config.batching",
    ]
    bad_config = {"policy": "warn", "batching": "yes", "batch_max_rows": 1.5, "batch_wait_ms": "2"}
    assert _fields(http.patch("/deployments/web", json={"config": bad_config})) == [
        "config.batch_max_rows",
        "config.batch_wait_ms",
        "config.batching",
    ]
    for canary in (True, "10", 2.5):
        body = {"model": "churn/2", "canary": canary}
        assert _fields(http.post("/deployments/web/routes", json=body)) == ["canary"]
    body = {"model": "churn/2", "shadow": "yes"}
    assert _fields(http.post("/deployments/web/routes", json=body)) == ["shadow"]
    assert _fields(http.post("/deployments/web/rollback", json={"notes": "x"})) == ["notes"]
    assert _fields(http.post("/deployments/web/promote", json={"model": 7})) == ["model"]
    assert _fields(http.delete("/deployments/web/routes")) == ["model"]
    assert http.get("/deployments/web").json()["revision"] == 1


def test_rule_violations_and_odd_bodies_never_500(http: httpx.Client) -> None:
    def error(response: httpx.Response, status: int, code: str) -> str:
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        return str(response.json()["error"]["message"])

    body = {"model": "churn/2", "canary": 150}
    assert "whole percentage" in error(
        http.post("/deployments/web/routes", json=body), 422, "invalid_input"
    )
    config = b'"policy": "warn", "batching": null, "batch_max_rows": 4, "batch_wait_ms": NaN'
    nan = b'{"config": {' + config + b"}}"
    response = http.patch(
        "/deployments/web", content=nan, headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422) and "batch_wait_ms" in response.text
    response = http.post(
        "/deployments/web/rollback", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert "malformed JSON" in error(response, 400, "invalid_input")
    assert "not found" in error(http.get("/deployments/nope/resolved"), 404, "not_found")
    created = http.post("/deployments", json={"name": "web", "model": "churn/1"})
    assert "already exists" in error(created, 409, "already_exists")
    response = http.delete("/deployments/web/routes", params={"model": "churn/1"})
    assert "is the primary" in error(response, 422, "invalid_input")
    # An empty POST body is allowed where every field has a default.
    assert "no earlier revision" in error(
        http.post("/deployments/web/rollback"), 422, "invalid_input"
    )
    assert "no canary" in error(http.post("/deployments/web/promote"), 422, "invalid_input")
    assert http.get("/deployments/web/history").json()[0]["action"] == "create"
    assert http.delete("/deployments/web").status_code == 204


# -- the CLI against a server ----------------------------------------------------------------


def test_cli_against_a_server(
    open_server: LiveServer, gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert open_server.services.database is not None and open_server.services.registry
    scope = fresh_workspace(open_server.services.database)
    seed_models(open_server.services.registry, scope)
    monkeypatch.setenv("GNOMON_URI", open_server.url)
    monkeypatch.setenv("GNOMON_WORKSPACE", scope.workspace)
    runner = CliRunner(env={"COLUMNS": "200"})

    def ok(*args: str) -> str:
        result = runner.invoke(app, ["deploy", *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    ok("create", "web", "--model", "churn@production", "--policy", "warn")
    ok("set-route", "web", "--model", "churn/2", "--canary", "25")
    status = json.loads(ok("status", "web", "--output", "json"))
    assert [(a["role"], a["version"], a["weight"]) for a in status["arms"]] == [
        ("primary", 1, 75),
        ("canary", 2, 25),
    ]
    assert "churn@production 75%, churn/2 canary 25%" in ok("history", "web")
    assert [d["name"] for d in json.loads(ok("list", "--output", "json"))] == ["web"]
    assert ok("rollback", "web") == "web revision 3: churn@production 100%\n"
    failed = runner.invoke(app, ["deploy", "promote", "web"])
    assert failed.exit_code == 1 and failed.stderr.startswith("error: deployment 'web' has no")
    ok("delete", "web", "--yes")
