"""Log in, log out and switch workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from gnomon.errors import RateLimited, Unauthenticated
from gnomon.ui.forms import check_csrf, check_origin, local_path, read_form
from gnomon.ui.render import HEADERS, PageRoute, page
from gnomon.ui.session import (
    SESSION_COOKIE,
    WORKSPACE_COOKIE,
    LoginNeeded,
    csrf_token,
    principal_of,
    viewer,
)

router = APIRouter(route_class=PageRoute)
SESSION_SECONDS = 30 * 24 * 3600  # as long as the login token itself

Next = Annotated[str | None, Query(max_length=2000)]


@router.get("/login")
def login_form(request: Request, next: Next = None) -> Response:
    if request.app.state.no_auth:
        return RedirectResponse(local_path(next), 303, headers=HEADERS)
    return page(request, "login.html", None, next=local_path(next), error="")


@router.post("/login")
async def login(request: Request) -> Response:
    check_origin(request)
    fields = await read_form(request)
    target = local_path(fields.get("next"))
    name, password = fields.get("username", ""), fields.get("password", "")
    auth = request.app.state.authenticator
    address = request.client.host if request.client else None
    try:
        secret, _ = await run_in_threadpool(auth.login, name, password, address)
    except (Unauthenticated, RateLimited) as exc:
        status = 429 if isinstance(exc, RateLimited) else 401
        return page(request, "login.html", None, status, next=target, error=str(exc))
    response = RedirectResponse(target, 303, headers=HEADERS)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        # Lax: a link from another site opens the page signed in (Strict would send the
        # reader to the login form); only GETs carry it across sites, and GET pages change
        # nothing, while every POST checks its Origin and the session's form token.
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    check_origin(request)
    fields = await read_form(request)
    response = RedirectResponse("/login", 303, headers=HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/")
    try:
        _, token = await run_in_threadpool(principal_of, request)
    except LoginNeeded:
        return response
    check_csrf(fields, csrf_token(request, token))
    if token:  # the session token itself is revoked, not just forgotten by this browser
        await run_in_threadpool(_revoke_session, request, token)
    return response


def _revoke_session(request: Request, token: str) -> None:
    from gnomon.auth.tokens import hash_secret

    auth = request.app.state.authenticator
    principal, _ = principal_of(request)
    found, _ = auth.store.find_token(hash_secret(token))
    auth.revoke_token(principal, found.id)


@router.get("/switch")
def switch(
    request: Request,
    workspace: Annotated[str, Query(min_length=1, max_length=200)],
    next: Next = None,
) -> Response:
    """Choose the workspace the pages show (checked: one the viewer may see)."""
    current = viewer(request)  # reads ?workspace=: refuses one the viewer may not see
    response = RedirectResponse(local_path(next), 303, headers=HEADERS)
    response.set_cookie(
        WORKSPACE_COOKIE, current.workspace, path="/", samesite="lax", httponly=True
    )
    return response
