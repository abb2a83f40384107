"""Body limits come from the route's declaration, never from the path's text; public routes
take small bodies only; and a caller without a valid token, or without the route's role in the
workspace it names, is refused before a byte of its body is read."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gnomon.auth.entities import Principal, Role
from gnomon.backends import open_services
from gnomon.server.app import create_app
from gnomon.server.guard import SMALL_BODY_LIMIT
from tests.fixtures.server import (
    ADMIN_PASSWORD,
    LiveServer,
    Tenant,
    add_tenant,
    run_uvicorn,
    server_settings,
)

JSON_LIMIT = 2 * SMALL_BODY_LIMIT
UPLOAD_LIMIT = 8 * JSON_LIMIT
BODY = b"x" * (3 * SMALL_BODY_LIMIT)  # over the JSON limit, within the upload limit
LOGIN = "/api/v1/auth/login"

# JSON routes whose path parameters carry the text that used to pick the upload limit, and
# the two real upload routes.
JSON_ROUTES = [
    ("PUT", "/api/v1/models/m/tags/a/artifacts/b"),
    ("PUT", "/api/v1/models/m/versions/1/tags/x/import"),
    ("GET", "/api/v1/runs/r/metrics/a/artifacts/b/history"),
    ("GET", "/api/v1/experiments/by-name/a/artifacts/import"),
]
UPLOAD_ROUTES = [("PUT", "/api/v1/runs/r/artifacts/f.bin"), ("POST", "/api/v1/models/m/import")]


class ReadCounter:
    """Wraps the app and counts the body bytes it reads."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.read = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counting() -> Message:
            message = await receive()
            self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counting, send)


@dataclass
class Guarded:
    live: LiveServer
    counter: ReadCounter
    tenant: Tenant
    run_id: str

    def http(self, token: str | None = None) -> httpx.Client:
        headers = {"X-Gnomon-Workspace": self.tenant.workspace}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.live.url, headers=headers)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guarded]:
    home = tmp_path_factory.mktemp("limits")
    settings = server_settings(
        f"sqlite:///{home / 'gnomon.db'}",
        home,
        max_body_bytes=JSON_LIMIT,
        max_artifact_bytes=UPLOAD_LIMIT,
    )
    services = open_services(settings)
    assert services.auth is not None
    services.auth.bootstrap_admin(ADMIN_PASSWORD)
    counter = ReadCounter(create_app(settings, services))
    with run_uvicorn(counter) as url:
        live = LiveServer(url, services, settings)
        tenant = add_tenant(live, "limits")
        exp = services.tracking.create_experiment(tenant.scope, "limits")
        run = services.tracking.create_run(tenant.scope, exp.id)
        yield Guarded(live, counter, tenant, run.id)


def _raw(url: str, request: bytes) -> int:
    """Send ``request`` as is on a fresh connection; the status of the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        reply = b""
        while b"\r\n" not in reply:
            chunk = sock.recv(4096)
            assert chunk, "the server closed the connection without answering"
            reply += chunk
    return int(reply.split(b" ", 2)[1])


def _head(
    method: str, path: str, token: str | None, framing: str, workspace: str | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: gnomon", "Content-Type: application/json"]
    lines.append(framing)
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    if workspace is not None:
        lines.append(f"X-Gnomon-Workspace: {workspace}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _chunked(body: bytes) -> bytes:
    return (
        b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:32768], body[32768:]))
        + b"0\r\n\r\n"
    )


ATTACKS = {
    # a body within the old 5 GiB "upload" limit, all of it sent
    "declared": lambda m, p, t: _head(m, p, t, f"Content-Length: {len(BODY)}") + BODY,
    # a huge declared body, barely started
    "huge": lambda m, p, t: _head(m, p, t, f"Content-Length: {2**40}") + BODY[:4096],
    # streamed, no Content-Length
    "chunked": lambda m, p, t: _head(m, p, t, "Transfer-Encoding: chunked") + _chunked(BODY),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
@pytest.mark.parametrize("token", [None, "gnm_forged-token"], ids=["anonymous", "bad-token"])
@pytest.mark.parametrize(("method", "path"), JSON_ROUTES + UPLOAD_ROUTES)
def test_no_valid_token_is_refused_before_the_body_is_read(
    guarded: Guarded, method: str, path: str, token: str | None, attack: str
) -> None:
    guarded.counter.read = 0
    status = _raw(guarded.live.url, ATTACKS[attack](method, path, token))
    # 429: the bad-token throttle refuses an address that keeps sending forged tokens.
    assert status == 401 or (token is not None and status == 429)
    assert guarded.counter.read == 0, "the server read the body of an unauthenticated request"


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", [path for method, path in JSON_ROUTES if method == "PUT"])
def test_json_routes_keep_the_json_limit_whatever_their_path(
    guarded: Guarded, path: str, streamed: bool
) -> None:
    def body(size: int) -> Any:
        content = b'{"value": "' + b"v" * size + b'"}'
        return iter([content]) if streamed else content

    json = {"content-type": "application/json"}
    with guarded.http(guarded.tenant.token) as http:
        too_large = http.put(path, content=body(2 * JSON_LIMIT), headers=json)
        small = http.put(path, content=body(10), headers=json)
    assert too_large.status_code == 413, too_large.text
    assert too_large.json()["error"]["code"] == "payload_too_large"
    assert small.status_code == 404, small.text  # read, parsed, and model 'm' is not there


def test_upload_routes_take_bodies_over_the_json_limit(guarded: Guarded) -> None:
    url = f"/api/v1/runs/{guarded.run_id}/artifacts/big.bin"
    with guarded.http(guarded.tenant.token) as http:
        assert http.put(url, content=BODY).status_code == 204
        parts = [BODY] * (UPLOAD_LIMIT // len(BODY) + 1)
        too_big = http.put(url, content=iter(parts))  # streamed, over the upload limit
        assert too_big.status_code == 413, too_big.text
        declared = http.post("/api/v1/models/m/import", content=b"x" * (UPLOAD_LIMIT + 1))
        assert declared.status_code == 413, declared.text


def test_the_token_and_the_role_are_looked_up_once(
    guarded: Guarded, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = guarded.live.services.auth
    assert auth is not None
    calls: list[str] = []
    for name in ("authenticate", "role_in"):
        original = getattr(auth, name)

        def counting(*args: Any, _name: str = name, _original: Any = original) -> Any:
            calls.append(_name)
            return _original(*args)

        monkeypatch.setattr(auth, name, counting)
    with guarded.http(guarded.tenant.token) as http:
        assert http.get(f"/api/v1/runs/{guarded.run_id}").status_code == 200
    assert sorted(calls) == ["authenticate", "role_in"]


# -- public routes: a small body, whatever the JSON limit ------------------------------------


def _login_body(size: int) -> bytes:
    return b'{"username": "admin", "password": "' + b"p" * size + b'"}'


@pytest.mark.parametrize("size", [SMALL_BODY_LIMIT, 1024 * 1024], ids=["just-over", "1MiB"])
def test_an_anonymous_login_body_over_the_public_limit_is_refused_unread(
    guarded: Guarded, size: int
) -> None:
    # Both sizes are over the public limit; the first is within the JSON limit.
    body = _login_body(size)
    guarded.counter.read = 0
    status = _raw(
        guarded.live.url, _head("POST", LOGIN, None, f"Content-Length: {len(body)}") + body
    )
    assert status == 413
    assert guarded.counter.read == 0, "the server read a body it had to refuse"


def test_a_streamed_login_body_is_cut_off_at_the_public_limit(guarded: Guarded) -> None:
    """Without a Content-Length the guard counts: it reads one 1 KiB message past the limit,
    never the rest of the 1 MiB."""

    async def parts() -> AsyncIterator[bytes]:
        body = _login_body(1024 * 1024)
        for start in range(0, len(body), 1024):
            yield body[start : start + 1024]

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=guarded.counter)
        async with httpx.AsyncClient(transport=transport, base_url="http://gnomon") as http:
            return await http.post(
                LOGIN, content=parts(), headers={"content-type": "application/json"}
            )

    guarded.counter.read = 0
    response = asyncio.run(post())
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
    assert guarded.counter.read <= SMALL_BODY_LIMIT + 1024


def test_a_login_within_the_public_limit_is_answered(guarded: Guarded) -> None:
    with httpx.Client(base_url=guarded.live.url) as http:
        answer = http.post(
            LOGIN, json={"username": guarded.tenant.scope.principal, "password": "password-123"}
        )
    assert answer.status_code == 200, answer.text


# -- workspace roles are checked before the body is read -------------------------------------


@dataclass
class Others:
    outsider: str  # a token of a user who is no member of the tenant's workspace
    viewer: str  # a token of a viewer of the tenant's workspace


@pytest.fixture(scope="module")
def others(guarded: Guarded) -> Others:
    auth = guarded.live.services.auth
    assert auth is not None
    outsider = add_tenant(guarded.live, "outsider")  # administrator of a workspace of their own
    root = Principal(auth.get_user("admin").id, "admin", is_admin=True)
    auth.create_user(root, "viewer-limits", "password-123")
    auth.add_member(root, guarded.tenant.workspace, "viewer-limits", Role.VIEWER)
    viewer, _ = auth.login("viewer-limits", "password-123")
    return Others(outsider.token, viewer)


REFUSALS = [
    # (who, method, path, workspace, status): each route takes a JSON body
    ("outsider", "POST", "/api/v1/experiments", "tenant", 404),  # editor route, another's workspace
    ("outsider", "POST", "/api/v1/members", "tenant", 404),  # workspace-admin route
    ("outsider", "POST", "/api/v1/experiments", "ws-nowhere", 404),  # no such workspace
    ("viewer", "POST", "/api/v1/experiments", "tenant", 403),  # editor route, viewer role
    ("viewer", "POST", "/api/v1/members", "tenant", 403),
    ("viewer", "POST", "/api/v1/users", "tenant", 403),  # global-administrator route
]


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("who", "method", "path", "workspace", "status"), REFUSALS)
def test_a_caller_without_the_role_is_refused_before_the_body_is_read(
    guarded: Guarded,
    others: Others,
    who: str,
    method: str,
    path: str,
    workspace: str,
    status: int,
    streamed: bool,
) -> None:
    token = others.outsider if who == "outsider" else others.viewer
    named = guarded.tenant.workspace if workspace == "tenant" else workspace
    # Within the JSON limit: a member with the role would have it read and parsed.
    body = b'{"name": "' + b"n" * (JSON_LIMIT - 64) + b'"}'
    framing = "Transfer-Encoding: chunked" if streamed else f"Content-Length: {len(body)}"
    request = _head(method, path, token, framing, named) + (_chunked(body) if streamed else body)
    guarded.counter.read = 0
    assert _raw(guarded.live.url, request) == status
    assert guarded.counter.read == 0, "the server read the body of a caller it refused"
