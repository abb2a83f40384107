"""Who may call what: every route depends on exactly one access level.

The permission-matrix test reads these dependencies off every route in the OpenAPI spec, so a
route added without one fails it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from gnomon._types import DEFAULT_WORKSPACE, Scope
from gnomon.auth.entities import Principal, Role, Workspace
from gnomon.errors import PermissionDenied, Unauthenticated
from gnomon.logs.context import note
from gnomon.web.request_log import object_of

WORKSPACE_HEADER = "x-gnomon-workspace"
MLFLOW_WORKSPACE_HEADER = "x-mlflow-workspace"
PRINCIPAL_STATE = "principal"  # request.state attributes the request guard fills
ADMITTED_STATE = "admitted"  # (the route's Access, the Caller it admitted)


class Access(StrEnum):
    PUBLIC = "public"  # no identity needed (health, login)
    USER = "user"  # any authenticated user, no workspace involved
    VIEWER = "viewer"  # read in the request's workspace
    EDITOR = "editor"  # write in the request's workspace
    WORKSPACE_ADMIN = "admin"  # manage the request's workspace
    GLOBAL_ADMIN = "global_admin"  # manage users and the whole server


WORKSPACE_LEVELS = frozenset({Access.VIEWER, Access.EDITOR, Access.WORKSPACE_ADMIN})
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
    scope: Scope  # the workspace by id (as embedded mode); "" outside any workspace
    role: Role | None


LOCAL_ADMIN = Principal(
    user_id="local", name="local", is_admin=True, token_workspace_id=None, token_role=None
)


def require(access: Access) -> Callable[[Request], Awaitable[Caller]]:
    """A FastAPI dependency that authenticates the request and checks ``access``.

    The request guard has normally done both before the body was read (:func:`admit`), so
    this only picks up its answer, on the event loop.
    """

    async def check(request: Request) -> Caller:
        admitted: tuple[Access, Caller] | None = getattr(request.state, ADMITTED_STATE, None)
        if admitted is not None and admitted[0] is access:
            caller = admitted[1]
        elif access is Access.PUBLIC:
            caller = Caller(LOCAL_ADMIN, Scope("", LOCAL_ADMIN.name), None)
        else:  # no guard ran (an app built without it): database lookups, on a worker thread
            caller = await run_in_threadpool(_authorized, request, access)
        request.state.caller = caller
        if access is not Access.PUBLIC:  # the request's log lines say who, where and on what
            workspace = caller.scope.workspace or None
            note(user=caller.principal.name, workspace=workspace, object=object_of(request.scope))
        return caller

    check.access = access  # type: ignore[attr-defined]  # read by the permission matrix
    return check


def admit(request: Request, access: Access | None) -> None:
    """Authenticate the request and, when its route declares one level (``access``), check
    it; both are kept on ``request.state`` for ``require()``. The request guard calls this
    before the body is read.

    Raises:
        Unauthenticated: as :func:`authenticate`.
        NotFound: the request's workspace, as ``AuthService.role_in``.
        PermissionDenied: the caller's role does not allow ``access``.
    """
    principal = authenticate(request)
    setattr(request.state, PRINCIPAL_STATE, principal)
    note(user=principal.name)  # a refusal's lines name who was refused
    if access is not None and access is not Access.PUBLIC:
        setattr(request.state, ADMITTED_STATE, (access, authorize(request, principal, access)))


def _authorized(request: Request, access: Access) -> Caller:
    return authorize(request, _principal(request), access)


def authorize(request: Request, principal: Principal, access: Access) -> Caller:
    """What ``principal`` is in the request's workspace, if ``access`` lets it in.

    Raises:
        NotFound: the workspace does not exist or is not the principal's (one message).
        PermissionDenied: the principal's role does not allow ``access``.
    """
    # acts_as_admin: an administrator whose token narrows them does not count.
    if access is Access.GLOBAL_ADMIN and not principal.acts_as_admin:
        raise PermissionDenied(f"user {principal.name!r} is not a global administrator")
    required = _WORKSPACE_ROLES.get(access)
    if required is None:
        return Caller(principal, Scope("", principal.name), None)
    name = workspace_name(request)
    workspace, role = _authenticator(request).role_in(principal, name)
    if not role.allows(required):
        raise PermissionDenied(
            f"user {principal.name!r} is {role.value} in workspace {name!r}; "
            f"this needs {required.value}"
        )
    return Caller(principal, Scope(workspace.id, principal.name), role)


def workspace_name(request: Request) -> str:
    """The workspace a request names (its ``X-Gnomon-Workspace`` header, or the one MLflow's
    client sends for ``MLFLOW_WORKSPACE``), else the default."""
    headers = request.headers
    return (
        headers.get(WORKSPACE_HEADER) or headers.get(MLFLOW_WORKSPACE_HEADER) or DEFAULT_WORKSPACE
    )


def access_of(dependency: Any) -> Access | None:
    return getattr(dependency, "access", None)


def route_access(route: APIRoute) -> Access | None:
    """The access level a route declares (None when it declares none, or several)."""
    levels = access_levels(route.dependant)
    return levels[0] if len(levels) == 1 else None


def access_levels(dependant: Dependant) -> list[Access]:
    """Every access level declared in a route's dependency tree, outermost first."""
    levels = []
    for sub in dependant.dependencies:
        level = access_of(sub.call)
        if level is not None:
            levels.append(level)
        levels += access_levels(sub)
    return levels


def _authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


def _principal(request: Request) -> Principal:
    # The request guard authenticated it before the body was read: do not look it up twice.
    known: Principal | None = getattr(request.state, PRINCIPAL_STATE, None)
    return known if known is not None else authenticate(request)


def authenticate(request: Request) -> Principal:
    """The principal of the request's bearer token (every caller is one under --no-auth).

    Raises:
        Unauthenticated: the token is missing, unknown, revoked or expired.
    """
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
