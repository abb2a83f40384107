"""Who is looking at a page: the browser's session cookie, the workspace it chose, its role.

The REST API takes bearer tokens only, so a page in another site can never spend the cookie
on the API. The cookie holds a login session token (``AuthService.login``), HttpOnly and
SameSite=Lax: sent across sites only with a GET, and GET pages change nothing. The UI's few
forms that change something also carry a CSRF token derived from the session secret, and
their ``Origin``, when sent, must be this server.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from fastapi import Request

from gnomon._types import DEFAULT_WORKSPACE, Scope
from gnomon.auth.entities import Principal, Role
from gnomon.errors import GnomonError, NotFound, PermissionDenied, Unauthenticated
from gnomon.server.access import LOCAL_ADMIN

SESSION_COOKIE = "gnomon_session"
WORKSPACE_COOKIE = "gnomon_workspace"
MAX_WORKSPACES_LISTED = 200  # the switcher's list; more are reached by ?workspace=


class LoginNeeded(GnomonError):
    """No valid session: pages answer with a redirect to the login form."""

    status = 401


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person behind a page request, in the workspace the page shows."""

    principal: Principal
    workspace: str
    scope: Scope
    role: Role
    csrf: str
    workspaces: tuple[str, ...] = field(default=())

    @property
    def can_edit(self) -> bool:
        return self.role.allows(Role.EDITOR)

    @property
    def is_admin(self) -> bool:
        return self.principal.acts_as_admin

    def require_editor(self) -> None:
        if not self.can_edit:
            raise PermissionDenied(
                f"user {self.principal.name!r} is {self.role.value} in workspace "
                f"{self.workspace!r}; this needs editor"
            )


def session_token(request: Request) -> str:
    return request.cookies.get(SESSION_COOKIE, "")


def csrf_token(request: Request, token: str) -> str:
    """The form token for a session: only who holds the session secret can compute it."""
    key = token.encode() if token else _process_key(request)
    return hmac.new(key, b"gnomon-ui-form", hashlib.sha256).hexdigest()[:40]


def _process_key(request: Request) -> bytes:
    # --no-auth has no session secret: one random key per app stands in for it.
    state = request.app.state
    if getattr(state, "ui_key", None) is None:
        state.ui_key = secrets.token_bytes(32)
    key: bytes = state.ui_key
    return key


def principal_of(request: Request) -> tuple[Principal, str]:
    """The session's principal and secret.

    Raises:
        LoginNeeded: no cookie, or its token is unknown, revoked or expired.
    """
    if request.app.state.no_auth:
        return LOCAL_ADMIN, ""
    token = session_token(request)
    if not token or len(token) > 200:
        raise LoginNeeded("log in to see this page")
    address = request.client.host if request.client else None
    try:
        return request.app.state.authenticator.authenticate(token, address), token
    except Unauthenticated as exc:
        raise LoginNeeded(str(exc)) from None


def chosen_workspace(request: Request) -> str:
    """``?workspace=`` (a shared link), else the switcher's cookie, else the default."""
    name = request.query_params.get("workspace") or request.cookies.get(WORKSPACE_COOKIE)
    return (name or DEFAULT_WORKSPACE)[:200]


def viewer(request: Request) -> Viewer:
    """The page's viewer; runs on a worker thread (database lookups).

    Raises:
        LoginNeeded: as :func:`principal_of`.
        NotFound: the workspace does not exist or is not the viewer's.
    """
    principal, token = principal_of(request)
    auth = request.app.state.authenticator
    name = chosen_workspace(request)
    workspaces = auth.list_workspaces(principal, MAX_WORKSPACES_LISTED).items
    try:
        workspace, role = auth.role_in(principal, name)
    except NotFound:
        if "workspace" in request.query_params or not workspaces:
            raise  # a link to a workspace the viewer may not see
        # The default, or a stale cookie (since removed from that workspace): show the first
        # workspace the viewer has.
        name = workspaces[0].name
        workspace, role = auth.role_in(principal, name)
    return Viewer(
        principal,
        name,
        Scope(workspace.id, principal.name),
        role,
        csrf_token(request, token),
        tuple(w.name for w in workspaces),
    )
