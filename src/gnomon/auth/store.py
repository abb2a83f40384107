"""The identity and audit store contracts, implemented by the SQL stores (embedded and server).

Two Protocols, one per aggregate: ``AuthStore`` holds who exists and what they may reach
(users, tokens, workspaces, memberships); ``AuditStore`` holds what happened (the audit log,
and the failed logins the rate limiter counts). Inputs arrive validated by the auth service;
the stores enforce what needs the database: uniqueness, existence and the "last admin" rules,
each check and write in one transaction. Times are milliseconds since the epoch, given by the
service so that one clock rules expiry, rate limits and the log.
"""

from __future__ import annotations

from typing import Protocol

from gnomon._types import Page
from gnomon.auth.entities import (
    ApiToken,
    AuditEvent,
    AuditQuery,
    LoginLimits,
    Membership,
    NewAuditEvent,
    NewToken,
    Role,
    User,
    Workspace,
)


class AuthStore(Protocol):
    """Users, API tokens, workspaces and memberships."""

    # -- users -------------------------------------------------------------------------------

    def create_user(self, name: str, password_hash: str, is_admin: bool, created_time: int) -> User:
        """Create an enabled user. Raises ``AlreadyExists`` when the name is taken."""
        ...

    def get_user(self, name: str) -> User:
        """Raises ``NotFound`` naming the user."""
        ...

    def get_credentials(self, name: str) -> tuple[User, str]:
        """The user and its password hash, for login only. Raises ``NotFound``."""
        ...

    def list_users(self, max_results: int, page_token: str | None = None) -> Page[User]:
        """Users ordered by name. Raises ``InvalidInput`` for a page token not from here."""
        ...

    def update_user(
        self, name: str, *, disabled: bool | None = None, password_hash: str | None = None
    ) -> User:
        """Change the given fields; ``None`` leaves a field as it is. Raises ``NotFound``, and
        ``Conflict`` when disabling the last enabled global administrator."""
        ...

    # -- tokens ------------------------------------------------------------------------------

    def create_token(self, token: NewToken) -> ApiToken:
        """Store a token by the hash of its secret. Raises ``NotFound`` for an unknown user or
        workspace, ``AlreadyExists`` when the hash is already stored."""
        ...

    def find_token(self, token_hash: str) -> tuple[ApiToken, User]:
        """The token with that hash (revoked and expired ones too) and its user. Raises
        ``NotFound``."""
        ...

    def list_tokens(
        self, user_id: str, max_results: int, page_token: str | None = None
    ) -> Page[ApiToken]:
        """A user's tokens, revoked and expired ones included, newest first."""
        ...

    def revoke_token(self, token_id: str, revoked_time: int, user_id: str | None) -> ApiToken:
        """Revoke a token; revoking it again keeps the first time. With ``user_id``, only that
        user's token is found. Raises ``NotFound`` naming the token id."""
        ...

    def touch_token(self, token_id: str, used_time: int) -> None:
        """Record that the token was used; an unknown id is ignored."""
        ...

    # -- workspaces --------------------------------------------------------------------------

    def create_workspace(self, name: str, creator_id: str, created_time: int) -> Workspace:
        """Create a workspace whose creator is its first admin member. Raises
        ``AlreadyExists`` when the name is taken, ``NotFound`` for an unknown creator."""
        ...

    def get_workspace(self, name: str) -> Workspace:
        """Raises ``NotFound`` naming the workspace."""
        ...

    def list_workspaces(
        self,
        member_id: str | None,
        workspace_id: str | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Workspace]:
        """Workspaces ordered by name: those ``member_id`` belongs to (``None``: all), and only
        ``workspace_id`` when given."""
        ...

    def find_role(self, workspace_name: str, user_id: str) -> tuple[Workspace, Role | None]:
        """The workspace and the user's role in it (``None`` for a non-member), in one read.
        Raises ``NotFound`` naming the workspace."""
        ...

    def add_member(self, workspace_id: str, user_id: str, role: Role) -> Membership:
        """Raises ``AlreadyExists`` when the user is a member already, ``NotFound`` for an
        unknown workspace or user."""
        ...

    def update_member(self, workspace_id: str, user_id: str, role: Role) -> tuple[Membership, Role]:
        """Change a member's role; returns the membership and the role it had. Raises
        ``NotFound`` for a non-member, ``Conflict`` when demoting the workspace's last admin."""
        ...

    def remove_member(self, workspace_id: str, user_id: str) -> Membership:
        """Returns the removed membership. Raises ``NotFound`` for a non-member, ``Conflict``
        when removing the workspace's last admin."""
        ...

    def list_members(
        self, workspace_id: str, max_results: int, page_token: str | None = None
    ) -> Page[Membership]:
        """Members ordered by user name."""
        ...


class AuditStore(Protocol):
    """The audit log and the failed-login record; both only grow, except for pruning.

    The two "reserve" methods count and write in one transaction, serialised with every other
    call of the same method, so concurrent callers can never all pass a limit together.
    """

    def append(self, event: NewAuditEvent) -> AuditEvent:
        """Store one event; its id orders events recorded in the same millisecond."""
        ...

    def append_limited(self, event: NewAuditEvent, since: int, limit: int) -> list[int]:
        """Store ``event`` unless ``limit`` events with its action and its address (``None``
        counts as one address) are stored at or after ``since``; counting and storing are
        atomic.

        Returns:
            The times of those events as counted before this one, newest first, at most
            ``limit``: the event was stored when fewer than ``limit`` came back.
        """
        ...

    def list_events(self, query: AuditQuery) -> Page[AuditEvent]:
        """Events matching every filter, newest first. Raises ``InvalidInput`` for a page
        token not from here."""
        ...

    def prune_events(self, before: int) -> int:
        """Delete the events older than ``before``; returns how many were deleted."""
        ...

    def reserve_failed_login(
        self, user_name: str, address: str | None, time: int, limits: LoginLimits
    ) -> int | None:
        """Record one attempt at ``time`` as a failure, unless ``limits.per_user`` failures
        since ``limits.since`` are recorded for the user name, or ``limits.per_address`` for
        the address (when not ``None``); counting and recording are atomic. Attempts older
        than ``limits.since`` are forgotten.

        Returns:
            The recorded attempt's id, for ``release_failed_login``; ``None`` when a limit
            was reached and nothing was recorded.
        """
        ...

    def recent_failed_logins(
        self, user_name: str, address: str | None, limits: LoginLimits
    ) -> tuple[list[int], list[int]]:
        """Times of the failures since ``limits.since``, newest first: the newest
        ``limits.per_user`` for the user name, and the newest ``limits.per_address`` for the
        address (empty when ``address`` is ``None``)."""
        ...

    def release_failed_login(self, attempt_id: int) -> None:
        """Forget one recorded attempt (its password proved right); every other failure, of
        that name too, stays. An unknown id is ignored."""
        ...
