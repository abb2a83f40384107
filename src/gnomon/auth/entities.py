"""Identity and audit entities: plain frozen values, the same in embedded and remote mode.

No entity ever carries a password hash or a token secret: those stay inside the store and
the service, so nothing that lists or serialises an entity can leak them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """A user's role in one workspace; each role can do everything the one before it can."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, required: Role) -> bool:
        """True when this role may do what ``required`` may (``EDITOR.allows(VIEWER)``)."""
        return self.rank >= required.rank

    def cap(self, ceiling: Role | None) -> Role:
        """This role lowered to ``ceiling`` (a token's role ceiling); ``None`` caps nothing."""
        return self if ceiling is None or ceiling.allows(self) else ceiling


_RANKS = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}


class AuditAction(StrEnum):
    """The actions the audit log names. Other capabilities record the first four too."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    PERMISSION_CHANGE = "permission_change"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    TOKEN_FAILED = "token_failed"
    # Deployment changes beyond create, update and delete, so traffic moves stand out.
    DEPLOYMENT_SET_ROUTE = "deployment_set_route"
    DEPLOYMENT_REMOVE_ROUTE = "deployment_remove_route"
    DEPLOYMENT_PROMOTE = "deployment_promote"
    DEPLOYMENT_ROLLBACK = "deployment_rollback"
    DEPLOYMENT_OUTCOMES = "deployment_outcomes"  # ground truth logged in bulk (a count)


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    is_admin: bool
    disabled: bool
    created_time: int


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token as listed: ``prefix`` (the secret's first 8 characters) tells tokens apart;
    the secret itself is shown once, when the token is created."""

    id: str
    user_id: str
    name: str
    prefix: str
    created_time: int
    workspace_id: str | None = None
    role: Role | None = None
    expires_time: int | None = None
    revoked_time: int | None = None
    last_used_time: int | None = None

    def is_active(self, now: int) -> bool:
        return self.revoked_time is None and (self.expires_time is None or self.expires_time > now)


@dataclass(frozen=True, slots=True)
class NewToken:
    """What ``create_token`` stores: the secret arrives hashed."""

    user_id: str
    name: str
    token_hash: str
    prefix: str
    created_time: int
    workspace_id: str | None = None
    role: Role | None = None
    expires_time: int | None = None


@dataclass(frozen=True, slots=True)
class Workspace:
    id: str
    name: str
    created_time: int


@dataclass(frozen=True, slots=True)
class Membership:
    workspace_id: str
    user_id: str
    user_name: str
    role: Role


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the user, narrowed by the token it presented.

    A token bound to a workspace reaches that workspace only; a token's role caps the role
    its user holds anywhere, global administration included. ``token_expires_time`` bounds
    the tokens it creates; ``session`` marks a login session (proved by the password), which
    alone may set its user's password or create tokens that outlive it.
    """

    user_id: str
    name: str
    is_admin: bool = False
    token_workspace_id: str | None = None
    token_role: Role | None = None
    token_expires_time: int | None = None
    session: bool = False

    @property
    def acts_as_admin(self) -> bool:
        """A global administrator acting through a token that does not narrow them."""
        return (
            self.is_admin
            and self.token_workspace_id is None
            and (self.token_role is None or self.token_role is Role.ADMIN)
        )

    @property
    def unrestricted(self) -> bool:
        """Acting with the user's full rights: a login session or an unscoped token."""
        return self.token_workspace_id is None and self.token_role is None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One recorded change or security event: who did what to which object, and when."""

    id: int
    time: int
    actor: str
    action: str
    object_type: str
    object_id: str
    workspace_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    address: str | None = None


@dataclass(frozen=True, slots=True)
class NewAuditEvent:
    time: int
    actor: str
    action: str
    object_type: str
    object_id: str
    workspace_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    address: str | None = None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters of an audit listing; ``None`` filters nothing. Times are inclusive."""

    workspace_id: str | None = None
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    address: str | None = None
    since: int | None = None
    until: int | None = None
    max_results: int = 100
    page_token: str | None = None


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """The failed logins a window may hold: those at or after ``since``, at most ``per_user``
    for one user name and ``per_address`` from one client address."""

    since: int
    per_user: int
    per_address: int
