"""IdentityClient: logins, users, tokens, workspaces, members and the audit log over REST.

Stored objects come back as the entities of ``auth/entities.py``, the same values the service
returns in embedded mode; the two answers with no entity, a freshly issued token and
``whoami``, come back as their wire models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from gnomon._types import Page
from gnomon.auth.entities import ApiToken, AuditEvent, Membership, Role, User, Workspace
from gnomon.auth.schemas import (
    AuditEventOut,
    IssuedToken,
    MembershipOut,
    TokenOut,
    UserOut,
    WhoAmI,
    WorkspaceOut,
)
from gnomon.client.transport import Transport
from gnomon.errors import InvalidInput
from gnomon.wire import Wire

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


class IdentityClient:
    """One request per call; errors come back as the ``GnomonError`` the server raised.

    Members and the audit log belong to a workspace, sent as the workspace header of that call.
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @classmethod
    def from_settings(cls, settings: Settings, *, anonymous: bool = False) -> IdentityClient:
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

    def __enter__(self) -> IdentityClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- sessions ----------------------------------------------------------------------------

    def login(self, username: str, password: str) -> IssuedToken:
        body = {"username": username, "password": password}
        return IssuedToken.model_validate(self._call("POST", "/auth/login", json=body))

    def whoami(self) -> WhoAmI:
        return WhoAmI.model_validate(self._call("GET", "/auth/whoami"))

    # -- users -------------------------------------------------------------------------------

    def create_user(self, name: str, password: str, is_admin: bool = False) -> User:
        body = {"name": name, "password": password, "is_admin": is_admin}
        return _one(UserOut, User, self._call("POST", "/users", json=body))

    def list_users(self, max_results: int = 1000, page_token: str | None = None) -> Page[User]:
        params = {"max_results": max_results, "page_token": page_token}
        return _page(UserOut, User, self._call("GET", "/users", params=params))

    def disable_user(self, name: str) -> User:
        return _one(UserOut, User, self._call("POST", f"/users/{_seg(name)}/disable"))

    def enable_user(self, name: str) -> User:
        return _one(UserOut, User, self._call("POST", f"/users/{_seg(name)}/enable"))

    def set_password(self, name: str, password: str) -> User:
        path = f"/users/{_seg(name)}/password"
        return _one(UserOut, User, self._call("PUT", path, json={"password": password}))

    # -- tokens ------------------------------------------------------------------------------

    def create_token(
        self,
        name: str,
        workspace: str | None = None,
        role: Role | None = None,
        expires_in_days: int | None = None,
    ) -> IssuedToken:
        body = {
            "name": name,
            "workspace": workspace,
            "role": role,
            "expires_in_days": expires_in_days,
        }
        return IssuedToken.model_validate(self._call("POST", "/tokens", json=body))

    def list_tokens(
        self, user: str | None = None, max_results: int = 1000, page_token: str | None = None
    ) -> Page[ApiToken]:
        params = {"user": user, "max_results": max_results, "page_token": page_token}
        return _page(TokenOut, ApiToken, self._call("GET", "/tokens", params=params))

    def revoke_token(self, token_id: str) -> ApiToken:
        return _one(TokenOut, ApiToken, self._call("DELETE", f"/tokens/{_seg(token_id)}"))

    # -- workspaces and members --------------------------------------------------------------

    def create_workspace(self, name: str) -> Workspace:
        body = self._call("POST", "/workspaces", json={"name": name})
        return _one(WorkspaceOut, Workspace, body)

    def list_workspaces(
        self, max_results: int = 1000, page_token: str | None = None
    ) -> Page[Workspace]:
        params = {"max_results": max_results, "page_token": page_token}
        return _page(WorkspaceOut, Workspace, self._call("GET", "/workspaces", params=params))

    def list_members(
        self, workspace: str, max_results: int = 1000, page_token: str | None = None
    ) -> Page[Membership]:
        params = {"max_results": max_results, "page_token": page_token}
        body = self._call("GET", "/members", params=params, workspace=workspace)
        return _page(MembershipOut, Membership, body)

    def add_member(self, workspace: str, user: str, role: Role) -> Membership:
        payload = {"user": user, "role": role}
        body = self._call("POST", "/members", json=payload, workspace=workspace)
        return _one(MembershipOut, Membership, body)

    def set_member_role(self, workspace: str, user: str, role: Role) -> Membership:
        path = f"/members/{_seg(user)}"
        body = self._call("PATCH", path, json={"role": role}, workspace=workspace)
        return _one(MembershipOut, Membership, body)

    def remove_member(self, workspace: str, user: str) -> Membership:
        body = self._call("DELETE", f"/members/{_seg(user)}", workspace=workspace)
        return _one(MembershipOut, Membership, body)

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
        """Newest first: ``workspace``'s events (the client's workspace when ``None``), or
        every workspace's with ``everywhere`` (global administrators)."""
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
        body = self._call("GET", "/audit", params=params, workspace=workspace)
        return _page(AuditEventOut, AuditEvent, body)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.transport.request(method, path, **kwargs)


def _one(wire: type[Wire], entity: Callable[..., E], body: Any) -> E:
    return entity(**dict(wire.model_validate(body)))


def _page(wire: type[Wire], entity: Callable[..., E], body: Any) -> Page[E]:
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise InvalidInput(f"the server answered a listing without items: {str(body)[:200]}")
    items = [_one(wire, entity, item) for item in body["items"]]
    return Page(items, body.get("next_page_token"))


def _seg(value: str) -> str:
    return quote(value, safe="")
