"""HttpAuthClient: the identity commands' :class:`gnomon.auth.api.AuthApi` over a gnomon
server's REST API (the contract is documented there).

Bodies and answers are the models of ``auth/schemas.py``, as the routes read and write them;
stored objects come back as the entities of ``auth/entities.py``. Members and the audit log
belong to a workspace, sent as the workspace header of that call. The client is bound to
no scope: it acts as the token its transport carries.
"""

from __future__ import annotations

from gnomon._types import Page
from gnomon.auth.entities import ApiToken, AuditEvent, Membership, Role, User, Workspace
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
from gnomon.client.transport import Transport, body, segment


class HttpAuthClient:
    """One request per call; errors come back as the ``GnomonError`` the server raised. The
    transport is the services' (``auth/wiring.py``): whoever opened them closes it."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    # -- sessions ----------------------------------------------------------------------------

    def login(self, username: str, password: str) -> IssuedToken:
        credentials = body(Login, username=username, password=password)
        return self.transport.one("POST", "/auth/login", IssuedToken, json=credentials)

    def whoami(self) -> WhoAmI:
        return self.transport.one("GET", "/auth/whoami", WhoAmI)

    # -- users -------------------------------------------------------------------------------

    def create_user(self, name: str, password: str, is_admin: bool = False) -> User:
        new = body(CreateUser, name=name, password=password, is_admin=is_admin)
        return self.transport.one("POST", "/users", UserOut, json=new).entity()

    def list_users(self, max_results: int = 1000, page_token: str | None = None) -> Page[User]:
        params = {"max_results": max_results, "page_token": page_token}
        page = self.transport.page("/users", UserOut, params=params)
        return Page([u.entity() for u in page], page.next_page_token)

    def disable_user(self, name: str) -> User:
        path = f"/users/{segment(name)}/disable"
        return self.transport.one("POST", path, UserOut).entity()

    def enable_user(self, name: str) -> User:
        path = f"/users/{segment(name)}/enable"
        return self.transport.one("POST", path, UserOut).entity()

    def set_password(self, name: str, password: str) -> User:
        path = f"/users/{segment(name)}/password"
        change = body(SetPassword, password=password)
        return self.transport.one("PUT", path, UserOut, json=change).entity()

    # -- tokens ------------------------------------------------------------------------------

    def create_token(
        self,
        name: str,
        workspace: str | None = None,
        role: Role | None = None,
        expires_in_days: int | None = None,
    ) -> IssuedToken:
        new = body(
            CreateToken,
            name=name,
            workspace=workspace,
            role=role,
            expires_in_days=expires_in_days,
        )
        return self.transport.one("POST", "/tokens", IssuedToken, json=new)

    def list_tokens(
        self, user: str | None = None, max_results: int = 1000, page_token: str | None = None
    ) -> Page[ApiToken]:
        params = {"user": user, "max_results": max_results, "page_token": page_token}
        page = self.transport.page("/tokens", TokenOut, params=params)
        return Page([t.entity() for t in page], page.next_page_token)

    def revoke_token(self, token_id: str) -> ApiToken:
        path = f"/tokens/{segment(token_id)}"
        return self.transport.one("DELETE", path, TokenOut).entity()

    # -- workspaces and members --------------------------------------------------------------

    def create_workspace(self, name: str) -> Workspace:
        new = body(CreateWorkspace, name=name)
        return self.transport.one("POST", "/workspaces", WorkspaceOut, json=new).entity()

    def list_workspaces(
        self, max_results: int = 1000, page_token: str | None = None
    ) -> Page[Workspace]:
        params = {"max_results": max_results, "page_token": page_token}
        page = self.transport.page("/workspaces", WorkspaceOut, params=params)
        return Page([w.entity() for w in page], page.next_page_token)

    def get_workspace(self, workspace: str | None = None) -> Workspace:
        return self.transport.one("GET", "/workspace", WorkspaceOut, workspace=workspace).entity()

    def list_members(
        self, workspace: str, max_results: int = 1000, page_token: str | None = None
    ) -> Page[Membership]:
        params = {"max_results": max_results, "page_token": page_token}
        page = self.transport.page("/members", MembershipOut, params=params, workspace=workspace)
        return Page([m.entity() for m in page], page.next_page_token)

    def add_member(self, workspace: str, user: str, role: Role) -> Membership:
        new = body(AddMember, user=user, role=role)
        answer = self.transport.one(
            "POST", "/members", MembershipOut, json=new, workspace=workspace
        )
        return answer.entity()

    def set_member_role(self, workspace: str, user: str, role: Role) -> Membership:
        path = f"/members/{segment(user)}"
        change = body(SetRole, role=role)
        answer = self.transport.one("PATCH", path, MembershipOut, json=change, workspace=workspace)
        return answer.entity()

    def remove_member(self, workspace: str, user: str) -> Membership:
        path = f"/members/{segment(user)}"
        answer = self.transport.one("DELETE", path, MembershipOut, workspace=workspace)
        return answer.entity()

    # -- audit -------------------------------------------------------------------------------

    def list_audit(
        self,
        workspace: str | None = None,
        *,
        everywhere: bool = False,
        actor: str | None = None,
        action: str | None = None,
        object_type: str | None = None,
        since: int | None = None,
        until: int | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[AuditEvent]:
        params = {
            "everywhere": "true" if everywhere else None,
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "since": since,
            "until": until,
            "max_results": max_results,
            "page_token": page_token,
        }
        page = self.transport.page("/audit", AuditEventOut, params=params, workspace=workspace)
        return Page([e.entity() for e in page], page.next_page_token)
