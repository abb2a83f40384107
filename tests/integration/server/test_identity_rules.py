"""Identity through a real server: who a client says it is counts for nothing, a token cannot
outgrow the token that made it, and bad tokens cannot flood the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import gnomon
from gnomon.auth.entities import AuditAction, Principal
from gnomon.auth.token_throttle import MAX_BAD_TOKENS
from tests.fixtures.own_server import KINDS, own_auth_server
from tests.fixtures.server import LiveServer, Tenant, add_tenant

DAY_MS = 24 * 60 * 60 * 1000


def api(live: LiveServer, token: str, workspace: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"}
    if workspace is not None:
        headers["X-Gnomon-Workspace"] = workspace
    return httpx.Client(base_url=f"{live.url}/api/v1", headers=headers, timeout=30)


@pytest.fixture
def tenant(auth_server: LiveServer) -> Tenant:
    return add_tenant(auth_server, uuid.uuid4().hex[:8], prefix="id-")


# -- a run's user is the authenticated identity ------------------------------------------------


def test_gnomon_user_cannot_sign_runs_as_someone_else(
    auth_server: LiveServer, tenant: Tenant, gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (
        ("GNOMON_URI", auth_server.url),
        ("GNOMON_TOKEN", tenant.token),
        ("GNOMON_WORKSPACE", tenant.workspace),
        ("GNOMON_USER", "mallory"),
    ):
        monkeypatch.setenv(name, value)
    client = gnomon.Client()
    try:
        run = client.create_run(client.create_experiment("claims").id)
    finally:
        client.close()
    assert run.user == tenant.scope.principal != "mallory"
    assert client.get_run(run.id).user == tenant.scope.principal


def test_a_user_claimed_in_the_body_is_replaced_by_the_callers(
    auth_server: LiveServer, tenant: Tenant
) -> None:
    with api(auth_server, tenant.token, tenant.workspace) as http:
        experiment = http.post("/experiments", json={"name": "claims"}).json()
        body = {"experiment_id": experiment["id"], "user": "mallory"}
        created = http.post("/runs", json=body)
        assert created.status_code == 201
        assert created.json()["user"] == tenant.scope.principal
        audit = http.get("/audit", params={"object_type": "run"}).json()["items"]
    assert [e["actor"] for e in audit if e["object_id"] == created.json()["id"]] == [
        tenant.scope.principal
    ]


def test_a_server_without_authentication_keeps_the_claimed_user(open_server: LiveServer) -> None:
    with httpx.Client(base_url=f"{open_server.url}/api/v1") as http:
        experiment = http.post("/experiments", json={"name": f"n-{uuid.uuid4().hex}"}).json()
        run = http.post("/runs", json={"experiment_id": experiment["id"], "user": "ann"}).json()
    assert run["user"] == "ann"  # --no-auth knows no one; the claim is all there is


# -- tokens made by tokens -------------------------------------------------------------------


def test_a_one_day_token_cannot_mint_a_lasting_one(auth_server: LiveServer, tenant: Tenant) -> None:
    with api(auth_server, tenant.token) as session:
        day = session.post("/tokens", json={"name": "one-day", "expires_in_days": 1}).json()
    with api(auth_server, day["token"]) as http:
        forever = http.post("/tokens", json={"name": "forever"})
        assert forever.status_code == 201
        assert forever.json()["expires_time"] == day["expires_time"]  # inherited, not never
        longer = http.post("/tokens", json={"name": "longer", "expires_in_days": 30})
        assert longer.status_code == 403
        assert "cannot create one that outlives it" in longer.json()["error"]["message"]
        # Nor can it set a lasting password for its user.
        password = http.put(
            f"/users/{tenant.scope.principal}/password", json={"password": "lasting-123"}
        )
        assert password.status_code == 403


def test_a_capped_token_cannot_manage_its_users_tokens(
    auth_server: LiveServer, tenant: Tenant
) -> None:
    with api(auth_server, tenant.token) as session:
        precious = session.post("/tokens", json={"name": "precious"}).json()
        viewer = session.post("/tokens", json={"name": "ro", "role": "viewer"}).json()
        with api(auth_server, viewer["token"]) as capped:
            revoke = capped.delete(f"/tokens/{precious['id']}")
            assert revoke.status_code == 403
            assert "only a login session or an unrestricted token" in revoke.text
            assert capped.get("/tokens").status_code == 403
        listed = {t["id"]: t for t in session.get("/tokens").json()["items"]}
    assert listed[precious["id"]]["revoked_time"] is None
    assert httpx.get(
        f"{auth_server.url}/api/v1/auth/whoami",
        headers={"Authorization": f"Bearer {precious['token']}"},
    ).is_success


# -- bad tokens ------------------------------------------------------------------------------


@pytest.fixture(params=KINDS)
def own_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    # Its own database: the flood throttles 127.0.0.1 for 15 minutes.
    with own_auth_server(request.param, request, tmp_path) as live:
        yield live


def test_a_flood_of_bad_tokens_adds_a_bounded_number_of_audit_events(
    own_server: LiveServer,
) -> None:
    auth = own_server.services.auth
    assert auth is not None
    root = Principal("root", "root", is_admin=True)

    def token_failures() -> int:
        query = {"action": AuditAction.TOKEN_FAILED, "max_results": 1000}
        return len(auth.list_audit(root, **query).items)  # type: ignore[arg-type]

    before = token_failures()
    valid, _ = auth.login("admin", "admin-password-123")
    url = f"{own_server.url}/api/v1/experiments"
    with httpx.Client(timeout=30) as http:

        def bad(i: int) -> httpx.Response:
            return http.get(url, headers={"Authorization": f"Bearer gnm_forged-{i}"})

        with ThreadPoolExecutor(8) as pool:  # 500 requests, 8 at a time
            statuses = [r.status_code for r in pool.map(bad, range(500))]
        assert statuses.count(401) == MAX_BAD_TOKENS
        assert statuses.count(429) == 500 - MAX_BAD_TOKENS
        assert statuses[-100:] == [429] * 100

        later = bad(500)
        assert later.status_code == 429 and int(later.headers["Retry-After"]) > 0
        assert later.json()["error"]["code"] == "rate_limited"
        # A valid token from the same client is never held back.
        ok = http.get(url, headers={"Authorization": f"Bearer {valid}"})
        assert ok.status_code == 200
    assert token_failures() - before == MAX_BAD_TOKENS
