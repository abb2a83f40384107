"""Logging in to the UI and what the session cookie can and cannot do, over plain HTTP."""

from __future__ import annotations

import re

import httpx

from tests.integration.ui.conftest import PASSWORD, WORKSPACE, UiServer, logged_in


def test_the_session_cookie_is_httponly_and_lax_and_pages_carry_a_policy(
    ui_server: UiServer,
) -> None:
    answer = httpx.post(f"{ui_server.url}/login", data={"username": "viewer", "password": PASSWORD})
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    with logged_in(ui_server, "viewer") as client:
        page = client.get("/", params={"workspace": WORKSPACE})
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"


def test_a_wrong_password_is_said_on_the_form_and_sets_no_cookie(ui_server: UiServer) -> None:
    answer = httpx.post(
        f"{ui_server.url}/login", data={"username": "viewer", "password": "wrong-one"}
    )
    assert answer.status_code == 401
    assert "invalid user name or password" in answer.text.lower() or 'role="alert"' in answer.text
    assert "set-cookie" not in answer.headers


def test_login_never_redirects_to_another_site(ui_server: UiServer) -> None:
    body = {"username": "viewer", "password": PASSWORD, "next": "//evil.example/"}
    answer = httpx.post(f"{ui_server.url}/login", data=body)
    assert answer.headers["location"] == "/"


def test_the_api_does_not_take_the_cookie(ui_server: UiServer) -> None:
    with logged_in(ui_server, "viewer") as client:
        headers = {"X-Gnomon-Workspace": WORKSPACE}
        assert client.get("/api/v1/experiments", headers=headers).status_code == 401


def test_a_post_from_another_site_or_without_the_form_token_is_refused(
    ui_server: UiServer,
) -> None:
    with logged_in(ui_server, "viewer") as client:
        foreign = client.post("/logout", data={}, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
        forged = client.post("/logout", data={"csrf": "guess"})
        assert forged.status_code == 403
        assert client.get("/", params={"workspace": WORKSPACE}).status_code == 200  # still in


def test_log_out_revokes_the_session_itself(ui_server: UiServer) -> None:
    with logged_in(ui_server, "viewer") as client:
        page = client.get("/", params={"workspace": WORKSPACE}).text
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert token is not None
        secret = client.cookies["gnomon_session"]
        assert client.post("/logout", data={"csrf": token.group(1)}).status_code == 303
    again = httpx.get(f"{ui_server.url}/", cookies={"gnomon_session": secret})
    assert again.status_code == 303 and again.headers["location"].startswith("/login")


def test_a_workspace_the_viewer_is_not_in_is_a_404_page(ui_server: UiServer) -> None:
    with logged_in(ui_server, "viewer") as client:
        answer = client.get("/", params={"workspace": "someone-elses"})
        assert answer.status_code == 404
        assert "text/html" in answer.headers["content-type"]


def test_an_oversized_form_is_refused_before_it_is_read(ui_server: UiServer) -> None:
    answer = httpx.post(
        f"{ui_server.url}/login",
        content=b"a" * 100_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413
