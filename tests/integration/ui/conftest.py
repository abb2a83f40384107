"""A live gnomon server with logins for the UI's browser tests: an editor and a viewer of
workspace ``team``, and ``login(page, ...)`` that goes through the real login form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from gnomon._types import Scope
from gnomon.auth.entities import Principal, Role
from tests.fixtures.server import ADMIN_PASSWORD, LiveServer, serve, server_settings

if TYPE_CHECKING:
    from playwright.sync_api import Page

WORKSPACE = "team"
PASSWORD = "ui-password-123"


@dataclass
class UiServer:
    live: LiveServer
    scope: Scope  # the team workspace, as the editor: where tests write what pages show

    @property
    def url(self) -> str:
        return self.live.url


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    home = tmp_path_factory.mktemp("ui-server")
    with serve(server_settings(f"sqlite:///{home / 'gnomon.db'}", home)) as live:
        auth = live.services.auth
        assert auth is not None
        auth.bootstrap_admin(ADMIN_PASSWORD)
        root = Principal(auth.get_user("admin").id, "admin", is_admin=True)
        workspace = auth.create_workspace(root, WORKSPACE)
        for name, role in (("editor", Role.EDITOR), ("viewer", Role.VIEWER)):
            auth.create_user(root, name, PASSWORD)
            auth.add_member(root, WORKSPACE, name, role)
        yield UiServer(live, Scope(workspace.id, "editor"))


def login(page: Page, server: UiServer, user: str, password: str = PASSWORD) -> None:
    """Log in through the form, then choose the team workspace with the switcher."""
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    if user != "admin":
        page.goto(f"{server.url}/switch?workspace={WORKSPACE}&next=/")


def console_errors(page: Page) -> list[str]:
    """Collects the page's console errors and uncaught exceptions from now on (not the
    "failed to load resource" lines of pages answered 400 or 404 on purpose: tests check
    statuses themselves)."""
    errors: list[str] = []

    def seen(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", seen)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@contextmanager
def logged_in(server: UiServer, user: str) -> Iterator[httpx.Client]:
    """An HTTP client holding ``user``'s session cookie, as a browser would."""
    with httpx.Client(base_url=server.url) as client:
        body = {"username": user, "password": PASSWORD, "next": "/"}
        answer = client.post("/login", data=body)
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        yield client


@contextmanager
def signed_in(server: UiServer, user: str) -> Iterator[tuple[httpx.Client, str]]:
    """``logged_in``, with the session's form token, read from a page as a browser would."""
    with logged_in(server, user) as client:
        page = client.get("/", params={"workspace": WORKSPACE}).text
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert found is not None
        yield client, found.group(1)
