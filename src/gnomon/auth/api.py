"""``AuthApi``: logins, users, tokens, workspaces, members and the audit log, as the identity
commands reach them.

Identity is remote by nature: users and tokens authenticate callers of a server, and an
embedded gnomon has no caller to authenticate. So there is one implementation,
``http.HttpAuthClient`` (the server's ``AuthService`` raises the errors, the transport decodes
them into the same classes), which the remote wiring exposes like every other capability's API
(``client.auth``). The acting identity is the token the transport carries, so the API is
bound to no scope: the wiring also provides it by type (``services.get(AuthApi)``), which is
how the CLI and ``Client.scope`` take it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from gnomon._types import Page
from gnomon.auth.entities import ApiToken, AuditEvent, Membership, Role, User, Workspace

if TYPE_CHECKING:
    from gnomon.auth.schemas import IssuedToken, WhoAmI


class AuthApi(Protocol):
    """Stored objects come back as the entities of ``auth/entities.py``; the two answers
    with no entity, a freshly issued token and ``whoami``, as their wire models. Listings
    return at most 1000 items a page."""

    # -- sessions ----------------------------------------------------------------------------

    def login(self, username: str, password: str) -> IssuedToken:
        """Open a session: a token named ``login``, valid 30 days (its secret shown once).

        Raises:
            Unauthenticated: unknown user or wrong password (one message for both), or a
                disabled user.
            RateLimited: too many failures for the name or the address lately.
        """
        ...

    def whoami(self) -> WhoAmI:
        """The user the client's token stands for, and what limits the token."""
        ...

    # -- users (global administrators, but for one's own password) ---------------------------

    def create_user(self, name: str, password: str, is_admin: bool = False) -> User:
        """A user; global administrators only.

        Raises:
            PermissionDenied: the caller does not act as a global administrator.
            InvalidInput: a bad name, or a password shorter than 8 characters.
            AlreadyExists: the name is taken.
        """
        ...

    def list_users(self, max_results: int = 1000, page_token: str | None = None) -> Page[User]:
        """Every user, by name. Raises ``PermissionDenied``."""
        ...

    def disable_user(self, name: str) -> User:
        """A disabled user cannot log in, and its tokens stop working at once. Raises
        ``PermissionDenied``, ``NotFound``, or ``Conflict`` for the last enabled global
        administrator."""
        ...

    def enable_user(self, name: str) -> User:
        """Undo ``disable_user``. Raises ``PermissionDenied`` or ``NotFound``."""
        ...

    def set_password(self, name: str, password: str) -> User:
        """One's own password from a login session (not an API token), or anyone's as a
        global administrator. Raises ``PermissionDenied``, ``InvalidInput``, ``NotFound``."""
        ...

    # -- tokens ------------------------------------------------------------------------------

    def create_token(
        self,
        name: str,
        workspace: str | None = None,
        role: Role | None = None,
        expires_in_days: int | None = None,
    ) -> IssuedToken:
        """An API token for the caller's own user, bound to ``workspace`` and capped at
        ``role`` when given; never expiring when ``expires_in_days`` is ``None``. A token
        made through a narrowed token is at least as narrow.

        Raises:
            InvalidInput: a bad name (``login`` is reserved for sessions), role or expiry.
            NotFound: the workspace.
            PermissionDenied: a role or expiry beyond the acting token's.
        """
        ...

    def list_tokens(
        self, user: str | None = None, max_results: int = 1000, page_token: str | None = None
    ) -> Page[ApiToken]:
        """The caller's tokens (``user``'s, for a global administrator), newest first,
        revoked and expired ones included; never their secrets. Raises
        ``PermissionDenied`` (a narrowed token too) or ``NotFound``."""
        ...

    def revoke_token(self, token_id: str) -> ApiToken:
        """Revoke one of the caller's tokens (anyone's, for a global administrator);
        revoking twice is harmless. Raises ``NotFound`` or ``PermissionDenied``."""
        ...

    # -- workspaces and members --------------------------------------------------------------

    def create_workspace(self, name: str) -> Workspace:
        """A workspace whose first admin is the caller.

        Raises:
            InvalidInput: a bad name.
            AlreadyExists: the name is taken.
            PermissionDenied: the acting token is bound to a workspace, or read-only.
        """
        ...

    def list_workspaces(
        self, max_results: int = 1000, page_token: str | None = None
    ) -> Page[Workspace]:
        """What the caller can reach, by name: every workspace for a global administrator,
        else those it is a member of; only the bound one for a bound token."""
        ...

    def get_workspace(self, workspace: str | None = None) -> Workspace:
        """``workspace`` (default: the client's), for any of its members: how a remote
        client learns the id its scope holds. Raises ``NotFound``, with one message whether
        the workspace exists or not."""
        ...

    def list_members(
        self, workspace: str, max_results: int = 1000, page_token: str | None = None
    ) -> Page[Membership]:
        """Members by user name, for anyone who reaches the workspace. Raises ``NotFound``."""
        ...

    def add_member(self, workspace: str, user: str, role: Role) -> Membership:
        """Give ``user`` a role in ``workspace``; its admins only.

        Raises:
            NotFound: the workspace or the user.
            PermissionDenied: the caller is not an admin there.
            AlreadyExists: the user is a member already (use ``set_member_role``).
        """
        ...

    def set_member_role(self, workspace: str, user: str, role: Role) -> Membership:
        """Change a member's role; the workspace's admins only. Raises ``NotFound``,
        ``PermissionDenied``, or ``Conflict`` when demoting the last admin."""
        ...

    def remove_member(self, workspace: str, user: str) -> Membership:
        """Take ``user`` out of ``workspace``; its admins only. Raises ``NotFound``,
        ``PermissionDenied``, or ``Conflict`` when removing the last admin."""
        ...

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
        """Events matching every filter, newest first (``since`` and ``until`` inclusive,
        in epoch milliseconds): ``workspace``'s (the client's when ``None``; its admins
        only), or every workspace's with ``everywhere`` (global administrators).

        Raises:
            PermissionDenied: the caller may not read these events.
            NotFound: the workspace.
            InvalidInput: a bad time, ``max_results`` or page token.
        """
        ...


if TYPE_CHECKING:  # mypy holds the implementation to the Protocol
    from gnomon.auth.http import HttpAuthClient

    _remote: type[AuthApi] = HttpAuthClient
