"""Identity, access and audit rules: the only caller of the auth and audit stores.

Methods that change something take the acting ``Principal`` first. The service checks what
the actor may do to identity objects (only global administrators manage users, only a
workspace's admins manage its members, a token only mints tokens narrower than itself) and
records each change in the audit log under the actor's name. Who may call what on other
capabilities' objects is decided by the routes, through ``role_in``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from gnomon import checks
from gnomon._types import Page, now_ms
from gnomon.auth import rules, tokens
from gnomon.auth.access import WorkspaceAccess
from gnomon.auth.audit import DAY_MS, AuditLog
from gnomon.auth.entities import (
    ApiToken,
    AuditAction,
    AuditEvent,
    AuditQuery,
    Principal,
    Role,
    User,
)
from gnomon.auth.login import LoginLimiter, as_seconds
from gnomon.auth.passwords import Passwords
from gnomon.auth.store import AuditStore, AuthStore
from gnomon.auth.token_throttle import TokenThrottle
from gnomon.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
)

SESSION_TOKEN_NAME = "login"  # reserved: only login() makes tokens of this name
SESSION_DAYS = 30
# last_used_time is a hint for people reviewing their tokens; writing it on every request
# would turn every authenticated read into a write.
TOUCH_INTERVAL_MS = 60_000
BOOTSTRAP_ADMIN = "admin"
SYSTEM_ACTOR = "system"  # the actor of events no user caused (the first start)
BAD_LOGIN = "invalid user name or password"  # also for unknown users: nothing to probe


class AuthService(WorkspaceAccess):
    """Users, logins, API tokens and the audit log; workspaces and memberships come from
    ``WorkspaceAccess``."""

    def __init__(
        self,
        store: AuthStore,
        audit: AuditStore,
        *,
        passwords: Passwords | None = None,
        clock: Callable[[], int] = now_ms,
        audit_retention_days: int | None = None,
    ) -> None:
        super().__init__(store, AuditLog(audit, clock, audit_retention_days), clock)
        self.audit = audit
        self.passwords = passwords or Passwords()
        self.limiter = LoginLimiter(audit)
        self.token_throttle = TokenThrottle(self.log)

    # -- users -------------------------------------------------------------------------------

    def create_user(
        self, actor: Principal, name: str, password: str, is_admin: bool = False
    ) -> User:
        """Create a user; global administrators only.

        Raises:
            PermissionDenied: the actor is not acting as a global administrator.
            InvalidInput: a bad name, or a password shorter than 8 characters.
            AlreadyExists: the name is taken.
        """
        _require_admin(actor, "create users")
        user = self._create_user(name, password, is_admin)
        details = {"is_admin": user.is_admin}
        self.log.append(actor.name, AuditAction.CREATE, "user", name, details=details)
        return user

    def get_user(self, name: str) -> User:
        """Raises ``NotFound`` naming the user."""
        return self.store.get_user(rules.check_name("user", name))

    def list_users(self, max_results: int = 1000, page_token: str | None = None) -> Page[User]:
        size = checks.max_results(max_results, checks.BROWSE_RESULTS_LIMIT)
        return self.store.list_users(size, page_token)

    def disable_user(self, actor: Principal, name: str) -> User:
        """A disabled user cannot log in, and its tokens stop working at once. Global
        administrators only. Raises ``PermissionDenied``, ``NotFound``, or ``Conflict`` for
        the last enabled global administrator."""
        return self._set_disabled(actor, name, True)

    def enable_user(self, actor: Principal, name: str) -> User:
        """Undo ``disable_user``. Raises ``PermissionDenied`` or ``NotFound``."""
        return self._set_disabled(actor, name, False)

    def set_password(self, actor: Principal, name: str, password: str) -> User:
        """Users set their own password from a login session (an API token, which may expire
        or be revoked, must not mint a lasting credential); global administrators set
        anyone's. Raises ``PermissionDenied``, ``InvalidInput``, ``NotFound``."""
        rules.check_name("user", name)
        if not actor.acts_as_admin:
            if actor.name != name:
                raise PermissionDenied(f"{actor.name!r} cannot set the password of user {name!r}")
            if not actor.session:
                raise PermissionDenied(
                    f"{actor.name!r} can set their own password from a login session only, "
                    "not with an API token"
                )
        hashed = self.passwords.hash(rules.check_password(password))
        user = self.store.update_user(name, password_hash=hashed)
        details = {"password": "changed"}
        self.log.append(actor.name, AuditAction.UPDATE, "user", name, details=details)
        return user

    def bootstrap_admin(self, password: str | None = None) -> str | None:
        """On first start (no user at all), create the global administrator ``admin``.

        Args:
            password: its password (``GNOMON_ADMIN_PASSWORD``); ``None`` generates one.

        Returns:
            The generated password, for the server to print once; ``None`` when a password
            was given, or when users exist already (then nothing is done).

        Raises:
            InvalidInput: the given password is shorter than 8 characters.
        """
        if self.store.list_users(max_results=1).items:
            return None
        generated = None if password is not None else secrets.token_urlsafe(18)
        try:
            self._create_user(BOOTSTRAP_ADMIN, generated if password is None else password, True)
        except AlreadyExists:  # another server process bootstrapped at the same moment
            return None
        self.log.append(
            SYSTEM_ACTOR, AuditAction.CREATE, "user", BOOTSTRAP_ADMIN, details={"is_admin": True}
        )
        return generated

    # -- sessions ----------------------------------------------------------------------------

    def login(self, name: str, password: str, address: str | None = None) -> tuple[str, ApiToken]:
        """Check a password and open a session: a token named ``login``, valid 30 days.

        Returns:
            The session token's secret (shown this once) and the token.

        Raises:
            Unauthenticated: unknown user or wrong password (one message for both); a
                disabled user (said only to who knows the password).
            RateLimited: in the last 15 minutes, 5 failures for the name or 20 from the
                address, attempts in flight included (``retry_after`` says how many seconds
                to wait); the password is not even checked, and the refusal is not audited.
            InvalidInput: the name cannot be a user name.
        """
        rules.check_name("user", name)
        address = rules.clean_address(address)
        now = self.clock()
        # The attempt counts as a failure before the slow hash runs, so concurrent guesses
        # cannot all pass the limit; a right password takes back this attempt's record only.
        attempt_id = self.limiter.reserve(name, address, now)
        user = self._verify(name, password)
        if user is None:
            self._login_failed(name, address, "bad credentials")
            raise Unauthenticated(BAD_LOGIN)
        if user.disabled:  # counted as a failure too, so these events stay bounded
            self._login_failed(name, address, "disabled")
            raise Unauthenticated(f"user {name!r} is disabled")
        self.limiter.succeeded(attempt_id)
        expires = now + SESSION_DAYS * DAY_MS
        secret, new = tokens.issue(user.id, SESSION_TOKEN_NAME, now, expires_time=expires)
        token = self.store.create_token(new)
        details = {"token_id": token.id}
        self.log.append(name, AuditAction.LOGIN, "user", name, details=details, address=address)
        return secret, token

    def authenticate(self, token: str, address: str | None = None) -> Principal:
        """The caller a token stands for.

        Raises:
            Unauthenticated: the token is unknown, revoked or expired, or its user is
                disabled. Each failure is recorded (``token_failed``) with the token's
                prefix only, never the secret.
            RateLimited: the token failed, and 20 failures from the same address were
                recorded in the last 15 minutes; this one is not recorded (see
                ``token_throttle``).
        """
        secret = token if isinstance(token, str) else ""
        now = self.clock()
        try:
            found, user = self.store.find_token(tokens.hash_secret(secret))
        except NotFound:
            self._token_failed(secret, "unknown", None, "anonymous", address)
            raise Unauthenticated("invalid API token") from None
        reason = message = ""
        if found.revoked_time is not None:
            reason, message = "revoked", f"API token {found.prefix!r}… is revoked"
        elif found.expires_time is not None and found.expires_time <= now:
            reason, message = "expired", f"API token {found.prefix!r}… has expired; log in again"
        elif user.disabled:
            reason, message = "user disabled", f"user {user.name!r} is disabled"
        if reason:
            self._token_failed(secret, reason, found, user.name, address)
            raise Unauthenticated(message)
        if found.last_used_time is None or now - found.last_used_time >= TOUCH_INTERVAL_MS:
            self.store.touch_token(found.id, now)
        return Principal(
            user.id,
            user.name,
            user.is_admin,
            found.workspace_id,
            found.role,
            found.expires_time,
            session=_is_session(found),
        )

    # -- tokens ------------------------------------------------------------------------------

    def create_token(
        self,
        actor: Principal,
        name: str,
        workspace: str | None = None,
        role: Role | str | None = None,
        expires_in_days: int | None = None,
    ) -> tuple[str, ApiToken]:
        """Create an API token for the actor's own user.

        A token made through a narrowed token is at least as narrow: same bound workspace,
        role ceiling no higher. A token made through an API token (not a login session)
        expires no later than that token, which it inherits when no expiry is asked for.

        Args:
            workspace: bind the token to this workspace (the actor must reach it).
            role: the most the token may do anywhere, whatever its user's roles.
            expires_in_days: ``None`` for a token that never expires (or, made through an
                expiring API token, that expires with it).

        Returns:
            The token's secret (shown this once) and the token.

        Raises:
            InvalidInput: a bad name (``login`` is reserved for sessions), role or expiry.
            NotFound: the workspace, as ``role_in``.
            PermissionDenied: the role asked for is above the acting token's ceiling, or the
                expiry asked for is after the acting token's.
        """
        rules.check_token_name(name)
        if name == SESSION_TOKEN_NAME:
            raise InvalidInput(f"token name {name!r} is reserved for login sessions")
        ceiling = None if role is None else rules.parse_role(role)
        days = rules.check_expiry_days(expires_in_days)
        workspace_id = actor.token_workspace_id
        if workspace is not None:
            workspace_id = self.role_in(actor, workspace)[0].id
        if actor.token_role is not None:
            if ceiling is not None and not actor.token_role.allows(ceiling):
                raise PermissionDenied(
                    f"a token limited to {actor.token_role} cannot create one with role {ceiling}"
                )
            ceiling = ceiling or actor.token_role
        now = self.clock()
        expires = _child_expiry(actor, now, days)
        secret, new = tokens.issue(actor.user_id, name, now, workspace_id, ceiling, expires)
        token = self.store.create_token(new)
        details = {"name": name, "role": ceiling, "expires_time": expires}
        self.log.append(
            actor.name,
            AuditAction.CREATE,
            "token",
            token.id,
            workspace_id=workspace_id,
            details=details,
        )
        return secret, token

    def list_tokens(
        self,
        actor: Principal,
        user: str | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[ApiToken]:
        """The actor's tokens (another user's, for a global administrator), newest first,
        revoked and expired ones included; never their secrets. Raises ``PermissionDenied``
        (also for an actor whose token is narrowed: token management needs the user's full
        rights) or ``NotFound``."""
        _require_unrestricted(actor, "list tokens")
        owner = actor.user_id
        if user is not None and user != actor.name:
            _require_admin(actor, "list another user's tokens")
            owner = self.get_user(user).id
        size = checks.max_results(max_results, checks.BROWSE_RESULTS_LIMIT)
        return self.store.list_tokens(owner, size, page_token)

    def revoke_token(self, actor: Principal, token_id: str) -> ApiToken:
        """Revoke one of the actor's tokens (anyone's, for a global administrator); revoking
        twice is harmless. Raises ``NotFound`` naming the id, for other users' tokens too, and
        ``PermissionDenied`` for an actor whose token is narrowed."""
        _require_unrestricted(actor, "revoke tokens")
        owner = None if actor.acts_as_admin else actor.user_id
        token = self.store.revoke_token(str(token_id), self.clock(), owner)
        details = {"name": token.name, "revoked": True}
        self.log.append(
            actor.name,
            AuditAction.DELETE,
            "token",
            token.id,
            workspace_id=token.workspace_id,
            details=details,
        )
        return token

    # -- audit -------------------------------------------------------------------------------

    def list_audit(
        self,
        principal: Principal,
        workspace: str | None = None,
        actor: str | None = None,
        action: AuditAction | str | None = None,
        object_type: str | None = None,
        since: int | None = None,
        until: int | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[AuditEvent]:
        """Audit events matching every filter, newest first; ``since`` and ``until`` are
        inclusive. Global administrators read everything; a workspace's admins read its
        events (``workspace`` is then required).

        Raises:
            PermissionDenied: the principal may not read these events.
            NotFound: the workspace, as ``role_in``.
            InvalidInput: a bad time, ``max_results`` or page token.
        """
        workspace_id = None
        if workspace is not None:
            found, role = self.role_in(principal, workspace)
            if not role.allows(Role.ADMIN):
                raise PermissionDenied(f"only admins of workspace {workspace!r} read its audit log")
            workspace_id = found.id
        elif not principal.acts_as_admin:
            raise PermissionDenied("only global administrators read the whole audit log")
        query = AuditQuery(
            workspace_id=workspace_id,
            actor=actor,
            action=None if action is None else str(action),
            object_type=object_type,
            since=rules.check_time("since", since),
            until=rules.check_time("until", until),
            max_results=checks.max_results(max_results, checks.BROWSE_RESULTS_LIMIT),
            page_token=page_token,
        )
        return self.audit.list_events(query)

    # -- helpers -----------------------------------------------------------------------------

    def _create_user(self, name: str, password: str | None, is_admin: bool) -> User:
        rules.check_new_name("user", name)
        hashed = self.passwords.hash(rules.check_password(password))
        return self.store.create_user(name, hashed, bool(is_admin), self.clock())

    def _set_disabled(self, actor: Principal, name: str, disabled: bool) -> User:
        _require_admin(actor, "disable or enable users")
        user = self.store.update_user(rules.check_name("user", name), disabled=disabled)
        details = {"disabled": disabled}
        self.log.append(actor.name, AuditAction.UPDATE, "user", name, details=details)
        return user

    def _verify(self, name: str, password: object) -> User | None:
        if not isinstance(password, str) or len(password) > rules.MAX_PASSWORD_LENGTH:
            return None
        try:
            user, hashed = self.store.get_credentials(name)
        except NotFound:
            self.passwords.verify_nobody(password)
            return None
        if not self.passwords.verify(hashed, password):
            return None
        if self.passwords.needs_rehash(hashed):  # the hashing cost was raised since
            self.store.update_user(name, password_hash=self.passwords.hash(password))
        return user

    def _login_failed(self, name: str, address: str | None, reason: str) -> None:
        details = {"reason": reason}
        action = AuditAction.LOGIN_FAILED
        self.log.append(name, action, "user", name, details=details, address=address)

    def _token_failed(
        self,
        secret: str,
        reason: str,
        token: ApiToken | None,
        actor: str,
        address: str | None,
    ) -> None:
        # The prefix only: the log must never hold a usable secret, even a mistyped one.
        details = {"reason": reason, "prefix": tokens.prefix(secret)}
        object_id = "" if token is None else token.id
        address = rules.clean_address(address)
        event = self.log.event(
            actor, AuditAction.TOKEN_FAILED, "token", object_id, details=details, address=address
        )
        if wait := self.token_throttle.failed(event):
            seconds = as_seconds(wait)
            raise RateLimited(
                f"too many requests with a bad API token from {address or 'this address'}; "
                f"wait {seconds} seconds",
                {"retry_after": seconds},
            )


def _is_session(token: ApiToken) -> bool:
    return token.name == SESSION_TOKEN_NAME and token.workspace_id is None and token.role is None


def _child_expiry(actor: Principal, now: int, days: int | None) -> int | None:
    """When a token the actor creates expires: never later than the actor's own token,
    unless the actor is a login session, which stands for the password."""
    asked = None if days is None else now + days * DAY_MS
    limit = None if actor.session else actor.token_expires_time
    if limit is None:
        return asked
    if asked is None:
        return limit
    if asked > limit:
        until = datetime.fromtimestamp(limit / 1000, UTC).isoformat(timespec="seconds")
        raise PermissionDenied(
            f"a token that expires at {until} cannot create one that outlives it "
            f"(expires_in_days={days})"
        )
    return asked


def _require_admin(actor: Principal, what: str) -> None:
    if not actor.acts_as_admin:
        raise PermissionDenied(f"only global administrators can {what}; {actor.name!r} cannot")


def _require_unrestricted(actor: Principal, what: str) -> None:
    if not actor.unrestricted:
        limits = ["one workspace"] if actor.token_workspace_id else []
        limits += [f"role {actor.token_role}"] if actor.token_role else []
        raise PermissionDenied(
            f"{actor.name!r} is using a token limited to {' and '.join(limits)}; "
            f"only a login session or an unrestricted token can {what}"
        )
