"""Changes made through the server land in the audit log with who, what and where."""

from __future__ import annotations

import httpx

from gnomon.auth.entities import Principal
from tests.fixtures.server import ADMIN_PASSWORD, LiveServer


def test_tracking_changes_and_logins_are_audited(auth_server: LiveServer) -> None:
    auth = auth_server.services.auth
    assert auth is not None
    with httpx.Client(base_url=auth_server.url) as http:
        bad = http.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong-pw!"})
        assert bad.status_code == 401
        token = http.post(
            "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        ).json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        exp = http.post("/api/v1/experiments", json={"name": "audited"}).json()
        run = http.post("/api/v1/runs", json={"experiment_id": exp["id"]}).json()
        http.patch(f"/api/v1/runs/{run['id']}", json={"status": "FINISHED"})
        http.delete(f"/api/v1/runs/{run['id']}")
        assert (
            http.get(
                "/api/v1/experiments", headers={"Authorization": "Bearer gnm_bogus"}
            ).status_code
            == 401
        )
        events = http.get("/api/v1/audit", params={"everywhere": True}).json()["items"]

    trail = [(e["action"], e["object_type"], e["object_id"]) for e in events]
    assert ("create", "experiment", exp["id"]) in trail
    assert ("create", "run", run["id"]) in trail
    assert ("update", "run", run["id"]) in trail
    assert ("delete", "run", run["id"]) in trail
    assert any(action == "login_failed" for action, _, _ in trail)
    assert any(action == "token_failed" for action, _, _ in trail)
    mine = [e for e in events if e["object_id"] == run["id"]]
    assert all(e["actor"] == "admin" and e["workspace_id"] == "default" for e in mine)
    assert all(e["address"] == "127.0.0.1" for e in mine)
    assert "gnm_bogus" not in str(events)  # a failed token is named by prefix at most

    admin = auth.get_user("admin")
    page = auth.list_audit(
        Principal(admin.id, "admin", True), workspace="default", object_type="run"
    )
    assert {e.object_id for e in page} >= {run["id"]}
