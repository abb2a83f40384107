"""A global option never silently stands in for a command's own option of the same name:
``tokens create --workspace`` binds the token, a ``--workspace`` before ``create`` only
chooses where commands act, so given there it is refused (against a live server)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from gnomon.auth.entities import Principal
from tests.fixtures.cli import invoke
from tests.fixtures.server import LiveServer, add_tenant

REFUSED = (
    "error: a --workspace before 'create' does not bind the token: put it after 'create' "
    "(gnomon tokens create NAME --workspace WORKSPACE)"
)


@pytest.fixture
def tenant_workspace(
    auth_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """GNOMON_URI at the live server, GNOMON_TOKEN a workspace admin's; the workspace."""
    for name in ("GNOMON_WORKSPACE", "GNOMON_ARTIFACTS", "GNOMON_EXPERIMENT"):
        monkeypatch.delenv(name, raising=False)
    tenant = add_tenant(auth_server, uuid.uuid4().hex[:8], prefix="opt-")
    monkeypatch.setenv("GNOMON_URI", auth_server.url)
    monkeypatch.setenv("GNOMON_TOKEN", tenant.token)
    monkeypatch.setenv("GNOMON_HOME", str(tmp_path / "home"))
    return tenant.workspace


def _token_names(live: LiveServer, user: str) -> dict[str, str | None]:
    auth = live.services.auth
    assert auth is not None
    root = Principal(auth.get_user("admin").id, "admin", is_admin=True)
    return {t.name: t.workspace_id for t in auth.list_tokens(root, user).items}


@pytest.mark.parametrize(
    "args",
    [
        ["tokens", "--workspace", "{ws}", "create", "ci"],
        ["--workspace", "{ws}", "tokens", "create", "ci"],
    ],
    ids=["group", "root"],
)
def test_a_workspace_before_create_mints_no_token(
    tenant_workspace: str, auth_server: LiveServer, args: list[str]
) -> None:
    result = invoke(*(a.format(ws=tenant_workspace) for a in args))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [REFUSED]
    user = tenant_workspace.replace("opt-ws-", "opt-user-")
    assert "ci" not in _token_names(auth_server, user)


def test_a_workspace_after_create_binds_the_token(
    tenant_workspace: str, auth_server: LiveServer
) -> None:
    result = invoke("tokens", "create", "ci", "--workspace", tenant_workspace)
    assert result.exit_code == 0, result.output
    user = tenant_workspace.replace("opt-ws-", "opt-user-")
    auth = auth_server.services.auth
    assert auth is not None
    bound = _token_names(auth_server, user)["ci"]
    assert bound == auth.get_workspace(tenant_workspace).id
