"""Who may call what: every route depends on exactly one access level.

The permission-matrix test reads these dependencies off every route in the OpenAPI spec, so a
route added without one fails it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from fastapi import Request

from gnomon._types import DEFAULT_WORKSPACE, Scope
from gnomon.auth.entities import Principal, Role, Workspace
from gnomon.errors import PermissionDenied, Unauthenticated

WORKSPACE_HEADER = "x-gnomon-workspace"


class Access(StrEnum):
    PUBLIC = "public"  # no identity needed (health, login)
    USER = "user"  # any authenticated user, no workspace involved
    VIEWER = "viewer"  # read in the request's workspace
    EDITOR = "editor"  # write in the request's workspace
    WORKSPACE_ADMIN = "admin"  # manage the request's workspace
    GLOBAL_ADMIN = "global_admin"  # manage users and the whole server


_WORKSPACE_ROLES = {
    Access.VIEWER: Role.VIEWER,
    Access.EDITOR: Role.EDITOR,
    Access.WORKSPACE_ADMIN: Role.ADMIN,
}


class Authenticator(Protocol):
    def authenticate(self, token: str, address: str | None = None) -> Principal: ...

    def role_in(self, principal: Principal, workspace: str) -> tuple[Workspace, Role]: ...


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    scope: Scope  # workspace is "" for calls outside any workspace
    role: Role | None


LOCAL_ADMIN = Principal(
    user_id="local", name="local", is_admin=True, token_workspace_id=None, token_role=None
)


def require(access: Access) -> Callable[[Request], Caller]:
    """A FastAPI dependency that authenticates the request and checks ``access``."""

    def check(request: Request) -> Caller:
        principal = _principal(request) if access is not Access.PUBLIC else LOCAL_ADMIN
        # acts_as_admin: an administrator whose token narrows them does not count.
        if access is Access.GLOBAL_ADMIN and not principal.acts_as_admin:
            raise PermissionDenied(f"user {principal.name!r} is not a global administrator")
        caller = Caller(principal, Scope("", principal.name), None)
        required = _WORKSPACE_ROLES.get(access)
        if required is not None:
            name = workspace_name(request)
            workspace, role = _authenticator(request).role_in(principal, name)
            if not role.allows(required):
                raise PermissionDenied(
                    f"user {principal.name!r} is {role.value} in workspace {name!r}; "
                    f"this needs {required.value}"
                )
            caller = Caller(principal, Scope(workspace.id, principal.name), role)
        request.state.caller = caller
        return caller

    check.access = access  # type: ignore[attr-defined]  # read by the permission matrix
    return check


def workspace_name(request: Request) -> str:
    """The workspace a request names (its ``X-Gnomon-Workspace`` header), else the default."""
    return request.headers.get(WORKSPACE_HEADER) or DEFAULT_WORKSPACE


def access_of(dependency: Any) -> Access | None:
    return getattr(dependency, "access", None)


def _authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


def _principal(request: Request) -> Principal:
    if request.app.state.no_auth:
        return LOCAL_ADMIN
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "missing bearer token: log in with 'gnomon login' or set GNOMON_TOKEN"
        )
    address = request.client.host if request.client else None
    return _authenticator(request).authenticate(token.strip(), address)
