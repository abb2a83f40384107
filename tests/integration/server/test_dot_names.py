"""Names and keys of only dots are refused, embedded and by the routes: HTTP clients drop '.'
and '..' path segments (RFC 3986), so an object named so could never be reached remotely."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

import gnomon
from gnomon.auth.passwords import Passwords
from gnomon.auth.service import AuthService
from gnomon.auth.sql import SqlAuthStore
from gnomon.auth.sql_audit import SqlAuditStore
from gnomon.errors import InvalidInput
from gnomon.server.access import LOCAL_ADMIN
from gnomon.store.database import Database
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.server import LiveServer

DOTS = [".", ".."]


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    client = gnomon.Client()
    client.registry.create_model("churn")
    return client


def _embedded_calls(client: gnomon.Client, dots: str) -> list[Callable[[], Any]]:
    run_id = client.create_run(client.create_experiment("e").id).id
    return [
        lambda: client.create_experiment(dots),
        lambda: client.rename_experiment("e", dots),
        lambda: client.registry.create_model(dots),
        lambda: client.deployments.create(dots, "churn"),
        lambda: client.log_metric(run_id, dots, 1.0),
        lambda: client.registry.create_model("other", tags={dots: "x"}),
        lambda: client.registry.service.set_model_tag(client.scope, "churn", f"a/{dots}/b", "x"),
    ]


@pytest.mark.parametrize("dots", DOTS)
def test_embedded_refuses_dot_names_and_keys(client: gnomon.Client, dots: str) -> None:
    for call in _embedded_calls(client, dots):
        with pytest.raises(InvalidInput, match=r"'\.'|'\.\.'"):
            call()


@pytest.mark.parametrize("key", [".", "./a", "a/.", "a/./b"])
def test_a_dot_segment_in_a_key_is_refused(client: gnomon.Client, key: str) -> None:
    with pytest.raises(InvalidInput, match=r"'\.' segment, which URL paths drop"):
        client.registry.service.set_model_tag(client.scope, "churn", key, "x")


def test_dots_inside_names_and_keys_are_kept(client: gnomon.Client) -> None:
    client.create_experiment("v1.0")
    client.create_experiment("...")  # not a dot segment: a URL keeps it
    client.registry.service.set_model_tag(client.scope, "churn", "a.b/c.d", "x")
    assert client.registry.get_model("churn").tags == {"a.b/c.d": "x"}


def test_users_and_workspaces_of_dots_are_not_created(sqlite_db: Database) -> None:
    cheap = Passwords(PasswordHasher.from_parameters(CHEAPEST))
    auth = AuthService(SqlAuthStore(sqlite_db), SqlAuditStore(sqlite_db), passwords=cheap)
    for dots in DOTS:
        with pytest.raises(InvalidInput, match="user name"):
            auth.create_user(LOCAL_ADMIN, dots, "a-long-password")
        with pytest.raises(InvalidInput, match="workspace name"):
            auth.create_workspace(LOCAL_ADMIN, dots)


@pytest.fixture
def http(open_server: LiveServer) -> Iterator[httpx.Client]:
    services = open_server.services
    assert services.database is not None and services.registry is not None
    scope = fresh_workspace(services.database)
    services.registry.create_model(scope, "churn")
    headers = {"X-Gnomon-Workspace": scope.workspace}
    with httpx.Client(base_url=f"{open_server.url}/api/v1", headers=headers) as client:
        yield client


@pytest.mark.parametrize("dots", DOTS)
def test_the_routes_refuse_them_too(http: httpx.Client, dots: str) -> None:
    experiment = http.post("/experiments", json={"name": "e"}).json()
    run = http.post("/runs", json={"experiment_id": experiment["id"]}).json()
    metric = {"key": dots, "value": 1.0, "step": 0, "timestamp": 1}
    for method, path, body in [
        ("POST", "/experiments", {"name": dots}),
        ("PATCH", f"/experiments/{experiment['id']}", {"name": dots}),
        ("POST", "/models", {"name": dots}),
        ("POST", "/models", {"name": "other", "tags": {dots: "x"}}),
        ("POST", "/deployments", {"name": dots, "model": "churn"}),
        ("POST", f"/runs/{run['id']}/batch", {"metrics": [metric]}),
        ("POST", f"/runs/{run['id']}/batch", {"tags": {dots: "x"}}),
        ("PUT", "/models/churn/tags/a/%2E/b", {"value": "x"}),  # decoded by the server
    ]:
        answer = http.request(method, path, json=body)
        assert answer.status_code == 422, (method, path, body, answer.text)
        assert "'.'" in answer.json()["error"]["message"]
    assert [m["name"] for m in http.get("/models").json()["items"]] == ["churn"]
