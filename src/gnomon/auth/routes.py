"""Identity, access and audit routes under /api/v1: login, users, tokens, workspaces, members,
audit. The service enforces who may change identity objects; each route also declares an access
level, which the permission matrix checks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from gnomon.auth.entities import ApiToken
from gnomon.auth.schemas import (
    AddMember,
    AuditEventOut,
    CreateToken,
    CreateUser,
    CreateWorkspace,
    IssuedToken,
    Login,
    MembershipOut,
    SetPassword,
    SetRole,
    TokenOut,
    UserOut,
    WhoAmI,
    WorkspaceOut,
)
from gnomon.auth.service import AuthService
from gnomon.server.access import Access, Caller, require, workspace_name
from gnomon.server.guard import small_body
from gnomon.server.respond import wire, wire_page
from gnomon.wire import BrowsePageSize, PageOut, QueryMillis, Text

router = APIRouter(tags=["identity"])

Anyone = Depends(require(Access.PUBLIC))
User = Annotated[Caller, Depends(require(Access.USER))]
Member = Annotated[Caller, Depends(require(Access.VIEWER))]
WorkspaceAdmin = Annotated[Caller, Depends(require(Access.WORKSPACE_ADMIN))]
GlobalAdmin = Annotated[Caller, Depends(require(Access.GLOBAL_ADMIN))]


async def _auth(request: Request) -> AuthService:  # async: no threadpool hop
    service: AuthService = request.app.state.services.auth
    return service


Auth = Annotated[AuthService, Depends(_auth)]


# -- sessions --------------------------------------------------------------------------------


@router.post(
    "/auth/login",
    response_model=IssuedToken,
    dependencies=[Anyone],
    responses={401: {}, 429: {}},  # public, yet it refuses credentials (the spec lists it)
    openapi_extra=small_body(),  # anyone may send it: held to 64 KiB, not the JSON limit
)
def login(body: Login, request: Request, auth: Auth) -> Response:
    """Exchange a user name and password for a session token (failed logins are rate
    limited per user and per address)."""
    address = request.client.host if request.client else None
    secret, token = auth.login(body.username, body.password, address)
    return wire(IssuedToken, _issued(secret, token))


@router.get("/auth/whoami", response_model=WhoAmI)
def whoami(caller: User) -> Response:
    return wire(WhoAmI, caller.principal)


# -- users -----------------------------------------------------------------------------------


@router.post("/users", status_code=201, response_model=UserOut)
def create_user(body: CreateUser, caller: GlobalAdmin, auth: Auth) -> Response:
    user = auth.create_user(caller.principal, body.name, body.password, body.is_admin)
    return wire(UserOut, user, 201)


@router.get("/users", response_model=PageOut[UserOut])
def list_users(
    caller: GlobalAdmin,
    auth: Auth,
    max_results: BrowsePageSize = 1000,
    page_token: Text | None = None,
) -> Response:
    return wire_page(UserOut, auth.list_users(max_results, page_token))


@router.post("/users/{name}/disable", response_model=UserOut)
def disable_user(name: Text, caller: GlobalAdmin, auth: Auth) -> Response:
    return wire(UserOut, auth.disable_user(caller.principal, name))


@router.post("/users/{name}/enable", response_model=UserOut)
def enable_user(name: Text, caller: GlobalAdmin, auth: Auth) -> Response:
    return wire(UserOut, auth.enable_user(caller.principal, name))


@router.put("/users/{name}/password", response_model=UserOut)
def set_password(name: Text, body: SetPassword, caller: User, auth: Auth) -> Response:
    """Users change their own password; global administrators anyone's."""
    return wire(UserOut, auth.set_password(caller.principal, name, body.password))


# -- tokens ----------------------------------------------------------------------------------


@router.post("/tokens", status_code=201, response_model=IssuedToken)
def create_token(body: CreateToken, caller: User, auth: Auth) -> Response:
    secret, token = auth.create_token(
        caller.principal, body.name, body.workspace, body.role, body.expires_in_days
    )
    return wire(IssuedToken, _issued(secret, token), 201)


def _issued(secret: str, token: ApiToken) -> dict[str, Any]:
    """A token just issued: its secret, shown this once, and what names it."""
    return {"token": secret, "id": token.id, "name": token.name, "expires_time": token.expires_time}


@router.get("/tokens", response_model=PageOut[TokenOut])
def list_tokens(
    caller: User,
    auth: Auth,
    user: Text | None = None,
    max_results: BrowsePageSize = 1000,
    page_token: Text | None = None,
) -> Response:
    return wire_page(TokenOut, auth.list_tokens(caller.principal, user, max_results, page_token))


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: Text, caller: User, auth: Auth) -> Response:
    return wire(TokenOut, auth.revoke_token(caller.principal, token_id))


# -- workspaces and members (the workspace is the request's X-Gnomon-Workspace) ----------------


@router.post("/workspaces", status_code=201, response_model=WorkspaceOut)
def create_workspace(body: CreateWorkspace, caller: GlobalAdmin, auth: Auth) -> Response:
    return wire(WorkspaceOut, auth.create_workspace(caller.principal, body.name), 201)


@router.get("/workspaces", response_model=PageOut[WorkspaceOut])
def list_workspaces(
    caller: User, auth: Auth, max_results: BrowsePageSize = 1000, page_token: Text | None = None
) -> Response:
    page = auth.list_workspaces(caller.principal, max_results, page_token)
    return wire_page(WorkspaceOut, page)


@router.get("/workspace", response_model=WorkspaceOut)
def get_workspace(request: Request, caller: Member, auth: Auth) -> Response:
    """The request's workspace (its ``X-Gnomon-Workspace`` header), for any member: how a
    remote client learns the id its scope holds."""
    return wire(WorkspaceOut, auth.get_workspace(workspace_name(request)))


@router.get("/members", response_model=PageOut[MembershipOut])
def list_members(
    request: Request,
    caller: Member,
    auth: Auth,
    max_results: BrowsePageSize = 1000,
    page_token: Text | None = None,
) -> Response:
    page = auth.list_members(caller.principal, workspace_name(request), max_results, page_token)
    return wire_page(MembershipOut, page)


@router.post("/members", status_code=201, response_model=MembershipOut)
def add_member(body: AddMember, request: Request, caller: WorkspaceAdmin, auth: Auth) -> Response:
    member = auth.add_member(caller.principal, workspace_name(request), body.user, body.role)
    return wire(MembershipOut, member, 201)


@router.patch("/members/{user}", response_model=MembershipOut)
def set_member_role(
    user: Text, body: SetRole, request: Request, caller: WorkspaceAdmin, auth: Auth
) -> Response:
    member = auth.set_member_role(caller.principal, workspace_name(request), user, body.role)
    return wire(MembershipOut, member)


@router.delete("/members/{user}", response_model=MembershipOut)
def remove_member(user: Text, request: Request, caller: WorkspaceAdmin, auth: Auth) -> Response:
    return wire(MembershipOut, auth.remove_member(caller.principal, workspace_name(request), user))


# -- audit -----------------------------------------------------------------------------------


@router.get("/audit", response_model=PageOut[AuditEventOut])
def list_audit(
    request: Request,
    caller: WorkspaceAdmin,
    auth: Auth,
    everywhere: Annotated[bool, Query(description="all workspaces (global admins)")] = False,
    actor: Text | None = None,
    action: Text | None = None,
    object_type: Text | None = None,
    since: QueryMillis | None = None,
    until: QueryMillis | None = None,
    max_results: BrowsePageSize = 100,
    page_token: Text | None = None,
) -> Response:
    """The audit log of the request's workspace, newest first; global administrators may
    read every workspace's events with ``everywhere=true``."""
    workspace = None if everywhere else workspace_name(request)
    page = auth.list_audit(
        caller.principal,
        workspace,
        actor,
        action,
        object_type,
        since,
        until,
        max_results,
        page_token,
    )
    return wire_page(AuditEventOut, page)
