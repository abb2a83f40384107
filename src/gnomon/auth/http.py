"""HttpAuthClient: the identity commands' :class:`gnomon.auth.api.AuthApi` over a gnomon
server's REST API (the contract is documented there).

Bodies and answers are the models of ``auth/schemas.py``, as the routes read and write them;
stored objects come back as the entities of ``auth/entities.py``. Members and the audit log
belong to a workspace, sent as the workspace header of that call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self, TypeVar

from pydantic import BaseModel

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
from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    from gnomon.config import Settings

E = TypeVar("E")

NOT_A_SERVER = "identity commands talk to a gnomon server: set GNOMON_URI=http(s)://host:port"


def server_url(settings: Settings) -> str:
    """The server's base URL from ``GNOMON_URI``; raises ``InvalidInput`` for anything but
    http(s), since users and tokens live on a server, not in an embedded database."""
    uri = settings.uri or ""
    if not uri.lower().startswith(("http://", "https://")):
        raise InvalidInput(NOT_A_SERVER)
    return uri.rstrip("/")


class HttpAuthClient:
    """One request per call; errors come back as the ``GnomonError`` the server raised."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @classmethod
    def from_settings(cls, settings: Settings, *, anonymous: bool = False) -> HttpAuthClient:
        """A client for ``settings.uri``, carrying ``GNOMON_TOKEN`` or the token saved by
        ``gnomon login`` (none when ``anonymous``, as for logging in).

        Raises:
            InvalidInput: ``GNOMON_URI`` is not an http(s) URL.
        """
        from gnomon.client.credentials import token_for

        url = server_url(settings)
        token = None if anonymous else settings.token or token_for(settings.home, url)
        transport = Transport(
            url, token=token, workspace=settings.workspace, ca_bundle=settings.ca_bundle
        )
        return cls(transport)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- sessions ----------------------------------------------------------------------------

    def login(self, username: str, password: str) -> IssuedToken:
        credentials = body(Login, username=username, password=password)
        return self.transport.one("POST", "/auth/login", IssuedToken, json=credentials)

    def whoami(self) -> WhoAmI:
        return self.transport.one("GET", "/auth/whoami", WhoAmI)

    # -- users -------------------------------------------------------------------------------

    def create_user(self, name: str, password: str, is_admin: bool = False) -> User:
        new = body(CreateUser, name=name, password=password, is_admin=is_admin)
        return _entity(User, self.transport.one("POST", "/users", UserOut, json=new))

    def list_users(self, max_results: int = 1000, page_token: str | None = None) -> Page[User]:
        params = {"max_results": max_results, "page_token": page_token}
        return _entities(User, self.transport.page("/users", UserOut, params=params))

    def disable_user(self, name: str) -> User:
        path = f"/users/{segment(name)}/disable"
        return _entity(User, self.transport.one("POST", path, UserOut))

    def enable_user(self, name: str) -> User:
        path = f"/users/{segment(name)}/enable"
        return _entity(User, self.transport.one("POST", path, UserOut))

    def set_password(self, name: str, password: str) -> User:
        path = f"/users/{segment(name)}/password"
        change = body(SetPassword, password=password)
        return _entity(User, self.transport.one("PUT", path, UserOut, json=change))

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
        return _entities(ApiToken, self.transport.page("/tokens", TokenOut, params=params))

    def revoke_token(self, token_id: str) -> ApiToken:
        path = f"/tokens/{segment(token_id)}"
        return _entity(ApiToken, self.transport.one("DELETE", path, TokenOut))

    # -- workspaces and members --------------------------------------------------------------

    def create_workspace(self, name: str) -> Workspace:
        new = body(CreateWorkspace, name=name)
        return _entity(Workspace, self.transport.one("POST", "/workspaces", WorkspaceOut, json=new))

    def list_workspaces(
        self, max_results: int = 1000, page_token: str | None = None
    ) -> Page[Workspace]:
        params = {"max_results": max_results, "page_token": page_token}
        return _entities(Workspace, self.transport.page("/workspaces", WorkspaceOut, params=params))

    def get_workspace(self, workspace: str | None = None) -> Workspace:
        answer = self.transport.one("GET", "/workspace", WorkspaceOut, workspace=workspace)
        return _entity(Workspace, answer)

    def list_members(
        self, workspace: str, max_results: int = 1000, page_token: str | None = None
    ) -> Page[Membership]:
        params = {"max_results": max_results, "page_token": page_token}
        page = self.transport.page("/members", MembershipOut, params=params, workspace=workspace)
        return _entities(Membership, page)

    def add_member(self, workspace: str, user: str, role: Role) -> Membership:
        new = body(AddMember, user=user, role=role)
        answer = self.transport.one(
            "POST", "/members", MembershipOut, json=new, workspace=workspace
        )
        return _entity(Membership, answer)

    def set_member_role(self, workspace: str, user: str, role: Role) -> Membership:
        path = f"/members/{segment(user)}"
        change = body(SetRole, role=role)
        answer = self.transport.one("PATCH", path, MembershipOut, json=change, workspace=workspace)
        return _entity(Membership, answer)

    def remove_member(self, workspace: str, user: str) -> Membership:
        path = f"/members/{segment(user)}"
        answer = self.transport.one("DELETE", path, MembershipOut, workspace=workspace)
        return _entity(Membership, answer)

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
        return _entities(AuditEvent, page)


def _entity(entity: Callable[..., E], wire: BaseModel) -> E:
    # The wire models carry the entities' fields, by the same names.
    return entity(**dict(wire))


def _entities(entity: Callable[..., E], page: Page[Any]) -> Page[E]:
    return Page([_entity(entity, item) for item in page], page.next_page_token)
