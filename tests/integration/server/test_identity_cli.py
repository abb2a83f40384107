"""The identity commands (login, users, workspaces, members, tokens, audit) against a live
server with authentication on. The server is shared by the session: every test names its own
users and workspaces."""

from __future__ import annotations

import json
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from gnomon.cli.app import app
from tests.fixtures.server import ADMIN_PASSWORD, LiveServer

runner = CliRunner()
PASSWORD = "s3cret-horse-battery"


@pytest.fixture
def home(
    auth_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """GNOMON_URI at the live server, and a GNOMON_HOME of the test's own (no saved login)."""
    from gnomon.tracking import fluent

    gnomon_home = tmp_path / "home"
    for name in ("GNOMON_ARTIFACTS", "GNOMON_WORKSPACE", "GNOMON_EXPERIMENT", "GNOMON_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GNOMON_URI", auth_server.url)
    monkeypatch.setenv("GNOMON_HOME", str(gnomon_home))
    monkeypatch.setenv("COLUMNS", "200")  # whole cells: tables fold at CliRunner's 80 columns
    fluent._reset()
    yield gnomon_home
    fluent._reset()


def gnomon(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=input)


def ok(*args: str, input: str | None = None) -> str:
    result = gnomon(*args, input=input)
    assert result.exit_code == 0, result.output
    return result.stdout


def as_json(*args: str) -> Any:
    return json.loads(ok(*args, "--output", "json"))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def login(name: str, password: str) -> str:
    return ok("login", "--username", name, "--password-stdin", input=password + "\n")


def new_user(name: str | None = None) -> str:
    """A fresh user, created by the admin (who stays logged in)."""
    name = name or unique("user")
    ok("users", "create", name, "--password-stdin", input=PASSWORD + "\n")
    return name


# -- sessions ---------------------------------------------------------------------------------


def test_login_saves_the_token_privately_and_whoami_names_the_user(
    home: Path, auth_server: LiveServer
) -> None:
    out = login("admin", ADMIN_PASSWORD)
    assert out.splitlines()[0] == f"logged in to {auth_server.url} as admin"
    credentials = home / "credentials"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    saved = credentials.read_text()
    assert ADMIN_PASSWORD not in saved
    token = json.loads(saved)[auth_server.url.lower()]
    assert token.startswith("gnm_") and token not in out
    assert ok("whoami").strip() == "admin (global administrator)"
    assert as_json("whoami")["name"] == "admin"


def test_login_prompts_for_name_and_hidden_password(home: Path, auth_server: LiveServer) -> None:
    out = ok("login", input=f"admin\n{ADMIN_PASSWORD}\n")
    assert f"logged in to {auth_server.url} as admin" in out
    assert ADMIN_PASSWORD not in out  # the prompt does not echo it


def test_logout_revokes_the_session_and_forgets_it(home: Path, auth_server: LiveServer) -> None:
    login("admin", ADMIN_PASSWORD)
    token = json.loads((home / "credentials").read_text())[auth_server.url.lower()]
    assert ok("logout").strip() == f"logged out of {auth_server.url}"
    assert json.loads((home / "credentials").read_text()) == {}
    assert _whoami_status(auth_server, token) == 401
    assert ok("logout").strip() == f"not logged in to {auth_server.url}"
    result = gnomon("whoami")
    assert result.exit_code == 1
    assert "missing bearer token" in result.stderr


def test_wrong_password_is_one_line_and_exit_1(home: Path) -> None:
    login("admin", ADMIN_PASSWORD)
    name = new_user()
    result = gnomon("login", "-u", name, "--password-stdin", input="not-the-password\n")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: invalid user name or password"]
    assert "Traceback" not in result.output
    login(name, PASSWORD)  # clears the failure, so the shared server's rate limit stays clean


def test_password_stdin_needs_a_username(home: Path) -> None:
    result = gnomon("login", "--password-stdin", input=ADMIN_PASSWORD)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --password-stdin needs --username")


@pytest.mark.parametrize("uri", ["sqlite:///gnomon.db", None])
def test_an_embedded_store_is_refused_clearly(
    home: Path, monkeypatch: pytest.MonkeyPatch, uri: str | None
) -> None:
    if uri is None:
        monkeypatch.delenv("GNOMON_URI")
    else:
        monkeypatch.setenv("GNOMON_URI", uri)
    for args in (("whoami",), ("users", "list"), ("login", "-u", "admin")):
        result = gnomon(*args)
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            "error: identity commands talk to a gnomon server: set GNOMON_URI=http(s)://host:port"
        ]


# -- users ------------------------------------------------------------------------------------


def test_users_create_list_disable_enable(home: Path) -> None:
    login("admin", ADMIN_PASSWORD)
    name = unique("ann")
    out = ok("users", "create", name, "--admin", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert out.splitlines()[-1] == f"created administrator {name!r}"  # after the prompts
    listed = {u["name"]: u for u in as_json("users", "list")}
    assert listed[name]["is_admin"] is True and listed[name]["disabled"] is False
    assert name in ok("users", "list")

    assert ok("users", "disable", name).strip() == f"disabled user {name!r}"
    assert {u["name"]: u for u in as_json("users", "list")}[name]["disabled"] is True
    result = gnomon("login", "-u", name, "--password-stdin", input=PASSWORD)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: user {name!r} is disabled"

    login("admin", ADMIN_PASSWORD)
    ok("users", "enable", name)
    assert "logged in" in login(name, PASSWORD)


def test_mistyped_confirmation_creates_nobody(home: Path) -> None:
    login("admin", ADMIN_PASSWORD)
    name = unique("typo")
    result = gnomon("users", "create", name, input=f"{PASSWORD}\nother-pass\n")
    assert result.exit_code != 0
    assert name not in {u["name"] for u in as_json("users", "list")}


def test_users_set_their_own_password(home: Path) -> None:
    login("admin", ADMIN_PASSWORD)
    name = new_user()
    login(name, PASSWORD)
    ok("users", "set-password", name, "--password-stdin", input="brand-new-pass\n")
    assert "logged in" in login(name, "brand-new-pass")


def test_only_global_administrators_create_users(home: Path) -> None:
    login("admin", ADMIN_PASSWORD)
    name = new_user()
    login(name, PASSWORD)
    result = gnomon("users", "create", unique("x"), "--password-stdin", input=PASSWORD)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "global administrator" in result.stderr


# -- workspaces and members -------------------------------------------------------------------


def test_workspaces_and_members(home: Path) -> None:
    login("admin", ADMIN_PASSWORD)
    workspace, bob = unique("team"), new_user()
    assert ok("workspaces", "create", workspace).strip() == f"created workspace {workspace!r}"
    assert workspace in {w["name"] for w in as_json("workspaces", "list")}
    assert workspace in ok("workspaces", "list")

    in_ws = ("--workspace", workspace, "workspaces", "members")
    out = ok(*in_ws, "add", bob, "editor")
    assert out.strip() == f"added {bob!r} to workspace {workspace!r} as editor"
    roles = {m["user_name"]: m["role"] for m in as_json(*in_ws, "list")}
    assert roles == {"admin": "admin", bob: "editor"}
    ok(*in_ws, "set-role", bob, "viewer")
    assert f"{bob}" in ok(*in_ws, "list") and "viewer" in ok(*in_ws, "list")
    ok(*in_ws, "remove", bob)
    assert [m["user_name"] for m in as_json(*in_ws, "list")] == ["admin"]

    result = gnomon(*in_ws, "add", bob, "owner")
    assert result.exit_code == 2  # not a role: a usage error, before any request


def test_members_of_an_unknown_workspace_are_not_found(home: Path) -> None:
    login("admin", ADMIN_PASSWORD)
    name = unique("nowhere")
    result = gnomon("--workspace", name, "workspaces", "members", "list")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: workspace {name!r} not found"


# -- tokens -----------------------------------------------------------------------------------


def test_tokens_create_list_revoke(
    home: Path, auth_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    login("admin", ADMIN_PASSWORD)
    workspace = unique("ci")
    ok("workspaces", "create", workspace)
    name = new_user()
    ok("--workspace", workspace, "workspaces", "members", "add", name, "admin")
    login(name, PASSWORD)

    args = ("tokens", "create", "ci", "--workspace", workspace, "--role", "viewer")
    out = ok(*args, "--expires-in-days", "7")
    secrets = [line for line in out.splitlines() if line.startswith("gnm_")]
    assert len(secrets) == 1 and "cannot be shown again" in out
    secret = secrets[0]
    assert _whoami_status(auth_server, secret) == 200

    table = ok("tokens", "list")
    listed = [t for t in as_json("tokens", "list") if t["name"] == "ci"]
    assert secret not in table and secret not in json.dumps(listed)
    assert secret[:8] in table and workspace in table
    (token,) = listed
    assert token["role"] == "viewer" and token["expires_time"] is not None
    assert token["revoked_time"] is None and token["prefix"] == secret[:8]

    monkeypatch.setenv("GNOMON_TOKEN", secret)  # the new token is usable by the CLI too
    assert ok("whoami").splitlines() == [
        name,
        f"token limited to workspace {workspace!r} and role viewer",
    ]
    monkeypatch.delenv("GNOMON_TOKEN")

    assert ok("tokens", "revoke", token["id"]).strip() == f"revoked token 'ci' ({token['id']})"
    assert _whoami_status(auth_server, secret) == 401
    (revoked,) = [t for t in as_json("tokens", "list") if t["id"] == token["id"]]
    assert revoked["revoked_time"] is not None


def test_admins_list_other_users_tokens(home: Path) -> None:
    login("admin", ADMIN_PASSWORD)
    name = new_user()
    login(name, PASSWORD)
    ok("tokens", "create", "mine")
    login("admin", ADMIN_PASSWORD)
    names = {t["name"] for t in as_json("tokens", "list", "--user", name)}
    assert names == {"login", "mine"}


# -- audit ------------------------------------------------------------------------------------


def test_audit_lists_the_changes_just_made(home: Path) -> None:
    login("admin", ADMIN_PASSWORD)
    workspace, name = unique("audited"), new_user()
    ok("workspaces", "create", workspace)
    ok("--workspace", workspace, "workspaces", "members", "add", name, "viewer")
    ok("--workspace", workspace, "workspaces", "members", "set-role", name, "editor")

    events = as_json("--workspace", workspace, "audit")
    trail = [(e["actor"], e["action"], e["object_type"], e["object_id"]) for e in events]
    assert trail == [
        ("admin", "permission_change", "member", name),
        ("admin", "permission_change", "member", name),
        ("admin", "create", "workspace", workspace),
    ]  # newest first
    assert events[0]["details"] == {"role": "editor", "previous_role": "viewer"}
    table = ok("--workspace", workspace, "audit")
    assert "permission_change" in table and "previous_role=viewer" in table

    everywhere = as_json("audit", "--everywhere", "--object-type", "user", "--action", "create")
    assert ("admin", name) in {(e["actor"], e["object_id"]) for e in everywhere}
    assert workspace in ok("audit", "--everywhere", "--actor", "admin", "--max", "5")


def test_audit_time_filters(home: Path) -> None:
    login("admin", ADMIN_PASSWORD)
    workspace = unique("timed")
    ok("workspaces", "create", workspace)
    created = as_json("--workspace", workspace, "audit")[0]["time"]
    in_ws = ("--workspace", workspace, "audit")
    assert len(as_json(*in_ws, "--since", str(created))) == 1
    assert as_json(*in_ws, "--until", str(created - 1)) == []
    assert len(as_json(*in_ws, "--since", "2000-01-01T00:00:00+00:00", "--max", "1")) == 1
    assert as_json(*in_ws, "--since", "2999-01-01") == []
    result = gnomon(*in_ws, "--since", "yesterday")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --since 'yesterday' is neither an ISO time")


def _whoami_status(server: LiveServer, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{server.url}/api/v1/auth/whoami", headers=headers).status_code
