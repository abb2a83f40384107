"""The administration page over plain HTTP: global administrators see everything, a
workspace's admins their workspace, anyone else a 403 page; tokens never show a secret."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from gnomon.auth.entities import Principal
from tests.fixtures.server import ADMIN_PASSWORD
from tests.integration.ui.conftest import PASSWORD, WORKSPACE, UiServer, logged_in

TEAM = {"workspace": WORKSPACE}


@contextmanager
def as_admin(server: UiServer) -> Iterator[tuple[httpx.Client, str]]:
    """A client with the global administrator's session, and the session's secret."""
    with httpx.Client(base_url=server.url) as client:
        body = {"username": "admin", "password": ADMIN_PASSWORD}
        answer = client.post("/login", data=body, follow_redirects=False)
        assert answer.status_code == 303
        yield client, answer.cookies["gnomon_session"]


@pytest.fixture(scope="module")
def lead(ui_server: UiServer) -> str:
    """``lead``: admin of the team workspace, not of the server."""
    auth = ui_server.live.services.auth
    assert auth is not None
    root = Principal(auth.get_user("admin").id, "admin", is_admin=True)
    auth.create_user(root, "lead", PASSWORD)
    auth.add_member(root, WORKSPACE, "lead", "admin")
    auth.create_workspace(root, "elsewhere")  # its events are not the team's
    return "lead"


def test_a_viewer_or_an_editor_gets_a_403_page(ui_server: UiServer) -> None:
    for user in ("viewer", "editor"):
        with logged_in(ui_server, user) as client:
            for section in ("", "users", "audit"):
                answer = client.get("/admin", params={**TEAM, "section": section})
                assert answer.status_code == 403, (user, section)
                assert (
                    "Not allowed" in answer.text and "administration is for admins" in answer.text
                )
                assert 'id="users"' not in answer.text


def test_a_global_admin_sees_users_workspaces_members_tokens_and_the_audit_log(
    ui_server: UiServer, lead: str
) -> None:
    with logged_in(ui_server, "viewer"):
        pass  # the viewer now has a login token to list
    with as_admin(ui_server) as (client, secret):
        users = client.get("/admin")
        assert users.status_code == 200
        for name in ("admin", "editor", "viewer", lead):
            assert f'data-user="{name}"' in users.text
        workspaces = client.get("/admin", params={"section": "workspaces"}).text
        assert 'data-workspace="team"' in workspaces and 'data-workspace="elsewhere"' in workspaces
        members = client.get("/admin", params={"section": "members", "of": WORKSPACE}).text
        assert 'data-user="lead"' in members and 'data-user="viewer"' in members
        tokens = client.get("/admin", params={"section": "tokens", "user": "viewer"}).text
        assert "<td>login</td>" in tokens
        mine = client.get("/admin", params={"section": "tokens"}).text
        assert secret[:8] in mine and secret not in mine  # the prefix, never the secret
        audit = client.get("/admin", params={"section": "audit", "actor": "admin"})
        assert audit.status_code == 200 and "permission_change" in audit.text
        assert "elsewhere" in audit.text  # every workspace's events
        unknown = client.get("/admin", params={"section": "members", "of": "nowhere"})
        assert unknown.status_code == 404
        assert client.get("/admin", params={"page": "not-a-token"}).status_code == 422
        assert client.get("/admin", params={"section": "secrets"}).status_code == 422


def test_a_workspace_admin_sees_its_members_own_tokens_and_its_audit_log(
    ui_server: UiServer, lead: str
) -> None:
    with logged_in(ui_server, lead) as client:
        members = client.get("/admin", params=TEAM)
        assert members.status_code == 200
        assert 'data-user="editor"' in members.text and 'data-user="lead"' in members.text
        audit = client.get("/admin", params={**TEAM, "section": "audit"}).text
        assert "permission_change" in audit and "elsewhere" not in audit  # team's events only
        tokens = client.get("/admin", params={**TEAM, "section": "tokens", "user": "viewer"})
        assert "Tokens of lead" in tokens.text  # only its own, whatever is asked
        other = client.get("/admin", params={**TEAM, "section": "members", "of": "elsewhere"})
        assert "Members of team" in other.text
        users = client.get("/admin", params={**TEAM, "section": "users"})
        assert users.status_code == 403 and 'data-user="viewer"' not in users.text
