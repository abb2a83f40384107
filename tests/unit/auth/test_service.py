"""Users, logins, tokens and the first start, through the auth service on SQLite."""

from __future__ import annotations

import hashlib
import re

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from gnomon.auth.entities import AuditAction, Principal, Role
from gnomon.auth.login import MAX_FAILURES, MAX_FAILURES_PER_ADDRESS
from gnomon.auth.passwords import Passwords
from gnomon.auth.service import AuthService
from gnomon.auth.sql import SqlAuthStore
from gnomon.auth.sql_audit import SqlAuditStore
from gnomon.auth.tables import api_tokens, users
from gnomon.errors import (
    AlreadyExists,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from gnomon.errors import Unauthenticated as Unauth
from gnomon.store.database import Database
from gnomon.store.metadata import metadata
from tests.unit.auth.conftest import MakeUser, SignIn
from tests.unit.auth.support import ADMIN_PASSWORD, DAY, MINUTE, SECOND, T0, Clock, password_of

BAD = "invalid user name or password"


def last_event(auth: AuthService, root: Principal) -> tuple[str, str, str, str]:
    e = auth.list_audit(root, max_results=1)[0]
    return e.actor, e.action, e.object_type, e.object_id


# -- users -----------------------------------------------------------------------------------


def test_create_user(auth: AuthService, root: Principal) -> None:
    created = auth.create_user(root, "ann", "ann-password")
    assert (created.name, created.is_admin, created.disabled) == ("ann", False, False)
    assert created.created_time == T0
    assert auth.get_user("ann") == created
    assert last_event(auth, root) == ("admin", "create", "user", "ann")
    assert auth.create_user(root, "ops", "ops-password", is_admin=True).is_admin


@pytest.mark.parametrize("name", ["", "a" * 65, "two words", "semi;colon", "slash/", "ünï", 7])
def test_bad_user_names(auth: AuthService, root: Principal, name: object) -> None:
    with pytest.raises(InvalidInput, match="user name"):
        auth.create_user(root, name, "long-enough")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["a", "a" * 64, "Ann.B-c_9"])
def test_good_user_names(auth: AuthService, root: Principal, name: str) -> None:
    assert auth.create_user(root, name, "long-enough").name == name


def test_short_password_is_refused_without_echoing_it(auth: AuthService, root: Principal) -> None:
    with pytest.raises(InvalidInput, match="at least 8 characters") as raised:
        auth.create_user(root, "ann", "s3cr3t!")
    assert "s3cr3t!" not in str(raised.value)
    assert auth.create_user(root, "ann", "12345678").name == "ann"  # exactly 8 is fine


def test_duplicate_and_unknown_users(auth: AuthService, root: Principal) -> None:
    auth.create_user(root, "ann", "ann-password")
    with pytest.raises(AlreadyExists, match="user 'ann' already exists"):
        auth.create_user(root, "ann", "other-password")
    with pytest.raises(NotFound, match="user 'ghost' not found"):
        auth.get_user("ghost")


def test_only_acting_global_admins_manage_users(
    auth: AuthService, root: Principal, make_user: MakeUser
) -> None:
    ann = make_user("ann")
    with pytest.raises(PermissionDenied, match="global administrators"):
        auth.create_user(ann, "bob", "bob-password")
    with pytest.raises(PermissionDenied):
        auth.disable_user(ann, "admin")
    read_only, _ = auth.create_token(root, "ro", role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        auth.create_user(auth.authenticate(read_only), "bob", "bob-password")


def test_list_users_pages(auth: AuthService, root: Principal) -> None:
    for name in ("cid", "bob", "ann"):
        auth.create_user(root, name, password_of(name))
    first = auth.list_users(max_results=3)
    assert [u.name for u in first] == ["admin", "ann", "bob"]
    rest = auth.list_users(max_results=3, page_token=first.next_page_token)
    assert [u.name for u in rest] == ["cid"]
    with pytest.raises(InvalidInput, match="max_results"):
        auth.list_users(max_results=0)


def test_disabled_users_cannot_log_in_and_their_tokens_stop(
    auth: AuthService, root: Principal, sign_in: SignIn
) -> None:
    auth.create_user(root, "ann", "ann-password")
    secret, _ = auth.login("ann", "ann-password")
    assert auth.disable_user(root, "ann").disabled
    assert last_event(auth, root) == ("admin", "update", "user", "ann")
    with pytest.raises(Unauth, match="user 'ann' is disabled"):
        auth.login("ann", "ann-password")
    with pytest.raises(Unauth, match=BAD):  # a wrong password learns nothing more
        auth.login("ann", "wrong-password")
    with pytest.raises(Unauth, match="user 'ann' is disabled"):
        auth.authenticate(secret)
    auth.enable_user(root, "ann")
    assert auth.authenticate(secret).name == "ann"
    assert sign_in("ann", "ann-password").name == "ann"


def test_the_last_enabled_admin_cannot_be_disabled(auth: AuthService, root: Principal) -> None:
    with pytest.raises(Conflict, match="last enabled global administrator"):
        auth.disable_user(root, "admin")
    auth.create_user(root, "ops", "ops-password", is_admin=True)
    auth.disable_user(root, "admin")
    assert auth.get_user("admin").disabled


def test_users_set_their_own_password(
    auth: AuthService, root: Principal, make_user: MakeUser, sign_in: SignIn
) -> None:
    ann, bob = make_user("ann"), make_user("bob")
    auth.set_password(ann, "ann", "brand-new-password")
    assert last_event(auth, root) == ("ann", "update", "user", "ann")
    with pytest.raises(Unauth, match=BAD):
        auth.login("ann", "ann-password")
    assert sign_in("ann", "brand-new-password").name == "ann"
    with pytest.raises(PermissionDenied, match="'bob' cannot set the password of user 'ann'"):
        auth.set_password(bob, "ann", "bobs-choice-1")
    auth.set_password(root, "bob", "set-by-admin")  # admins set anyone's
    assert sign_in("bob", "set-by-admin").name == "bob"
    with pytest.raises(InvalidInput, match="at least 8"):
        auth.set_password(ann, "ann", "short")


def test_a_narrowed_token_cannot_change_the_password(
    auth: AuthService, make_user: MakeUser
) -> None:
    ann = make_user("ann")
    capped, _ = auth.create_token(ann, "ci", role="editor")
    with pytest.raises(PermissionDenied):
        auth.set_password(auth.authenticate(capped), "ann", "taken-over-1")


# -- login -----------------------------------------------------------------------------------


def test_login_opens_a_30_day_session(auth: AuthService, root: Principal, clock: Clock) -> None:
    auth.create_user(root, "ann", "ann-password")
    secret, token = auth.login("ann", "ann-password", address="10.0.0.7")
    assert secret.startswith("gnm_") and len(secret) > 40
    assert (token.name, token.prefix, token.expires_time) == ("login", secret[:8], T0 + 30 * DAY)
    principal = auth.authenticate(secret)
    assert (principal.name, principal.is_admin, principal.token_role) == ("ann", False, None)
    event = auth.list_audit(root, action=AuditAction.LOGIN, actor="ann")[0]
    assert (event.object_id, event.address) == ("ann", "10.0.0.7")
    clock.advance(30 * DAY)
    with pytest.raises(Unauth, match="expired"):
        auth.authenticate(secret)


def test_unknown_user_and_wrong_password_look_the_same(auth: AuthService, root: Principal) -> None:
    auth.create_user(root, "ann", "ann-password")
    messages = []
    for name, password in (("ann", "wrong-password"), ("nobody", "ann-password")):
        with pytest.raises(Unauth) as raised:
            auth.login(name, password, address="10.0.0.7")
        messages.append((type(raised.value), raised.value.message, raised.value.details))
    assert messages[0] == messages[1] == (Unauth, BAD, {})
    failed = auth.list_audit(root, action="login_failed")
    assert [(e.actor, e.address) for e in failed] == [
        ("nobody", "10.0.0.7"),
        ("ann", "10.0.0.7"),
    ]


def fail(auth: AuthService, name: str, address: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(Unauth, match=BAD):
            auth.login(name, "wrong-password", address=address)


def test_five_failures_for_a_user_lock_it_from_any_address(
    auth: AuthService, root: Principal, clock: Clock, sign_in: SignIn
) -> None:
    auth.create_user(root, "ann", "ann-password")
    for i in range(5):
        fail(auth, "ann", f"10.0.0.{i}")
        clock.advance(SECOND)
    # The right password from a fresh address: refused without being checked (nor audited:
    # the five failures are, and refusals must not let anyone grow the log).
    with pytest.raises(RateLimited, match=r"too many failed logins; wait 895 seconds") as raised:
        auth.login("ann", "ann-password", address="10.9.9.9")
    assert raised.value.details == {"retry_after": 895} and raised.value.retry_after == 895
    assert len(auth.list_audit(root, action="login_failed", actor="ann").items) == 5
    assert sign_in("admin", ADMIN_PASSWORD).name == "admin"  # other users are not locked
    clock.advance(895 * SECOND - 1)
    with pytest.raises(RateLimited, match="wait 1 seconds"):
        auth.login("ann", "ann-password")
    clock.advance(1)  # the first failure leaves the 15-minute window
    assert sign_in("ann", "ann-password").name == "ann"


def test_refused_attempts_do_not_extend_the_lock(
    auth: AuthService, root: Principal, clock: Clock, sign_in: SignIn
) -> None:
    auth.create_user(root, "ann", "ann-password")
    fail(auth, "ann", "10.0.0.1", times=5)
    for _ in range(20):
        clock.advance(MINUTE // 2)
        with pytest.raises(RateLimited, match="too many failed logins"):
            auth.login("ann", "wrong-password")
    clock.advance(5 * MINUTE)
    assert sign_in("ann", "ann-password").name == "ann"


def test_made_up_names_lock_an_address_out_only_at_its_limit(
    auth: AuthService, root: Principal, clock: Clock, sign_in: SignIn
) -> None:
    auth.create_user(root, "ann", "ann-password")
    fail(auth, "ann", "10.6.6.6")  # a real user's typo counts toward the address too
    for i in range(MAX_FAILURES_PER_ADDRESS - 2):  # an anonymous guesser, one try per name
        fail(auth, f"ghost-{i}", "10.6.6.6")
    # One place left: the users there still log in, and their logins take no place.
    for _ in range(3):
        assert auth.login("ann", "ann-password", address="10.6.6.6")[1].name == "login"
        assert auth.login("admin", ADMIN_PASSWORD, address="10.6.6.6")[1].name == "login"
    fail(auth, "ghost-last", "10.6.6.6")
    with pytest.raises(RateLimited, match=r"wait 900 seconds"):
        auth.login("ann", "ann-password", address="10.6.6.6")
    assert auth.login("ann", "ann-password", address="10.0.0.1")[1].name == "login"
    clock.advance(15 * MINUTE)
    assert auth.login("ann", "ann-password", address="10.6.6.6")[1].name == "login"


def test_unknown_names_are_limited_like_real_ones(auth: AuthService, root: Principal) -> None:
    # Otherwise the sixth guess would answer 401 for a made-up name and 429 for a real one.
    auth.create_user(root, "ann", "ann-password")
    refusals = []
    for name in ("ann", "nobody"):
        fail(auth, name, "10.0.0.1", times=MAX_FAILURES)
        with pytest.raises(RateLimited) as raised:
            auth.login(name, "wrong-password", address="10.0.0.2")
        refusals.append(raised.value.message)
    assert refusals[0] == refusals[1]


def test_the_owners_login_does_not_renew_a_guessers_budget(
    auth: AuthService, root: Principal
) -> None:
    auth.create_user(root, "ann", "ann-password")
    fail(auth, "ann", "10.6.6.6", times=MAX_FAILURES - 1)
    # Ann logs in between the guesses: her own attempt is taken back, the guesses stay.
    assert auth.login("ann", "ann-password", address="10.0.0.2")[1].name == "login"
    fail(auth, "ann", "10.6.6.6")  # the guesser's last place, not a fresh five
    with pytest.raises(RateLimited, match="too many failed logins"):
        auth.login("ann", "wrong-password", address="10.6.6.6")
    assert len(auth.list_audit(root, action="login_failed", actor="ann").items) == MAX_FAILURES


def test_old_failures_fall_out_of_the_window(
    auth: AuthService, root: Principal, clock: Clock
) -> None:
    auth.create_user(root, "ann", "ann-password")
    fail(auth, "ann", "10.0.0.1", times=4)
    clock.advance(15 * MINUTE + 1)
    fail(auth, "ann", "10.0.0.1", times=4)
    assert auth.login("ann", "ann-password", address="10.0.0.1")[1].name == "login"


def test_login_rehashes_a_password_hashed_with_older_parameters(
    sqlite_db: Database, clock: Clock, cheap_passwords: Passwords
) -> None:
    old = AuthService(
        SqlAuthStore(sqlite_db), SqlAuditStore(sqlite_db), passwords=cheap_passwords, clock=clock
    )
    old.bootstrap_admin(ADMIN_PASSWORD)
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    new = AuthService(
        SqlAuthStore(sqlite_db), SqlAuditStore(sqlite_db), passwords=stronger, clock=clock
    )
    before = SqlAuthStore(sqlite_db).get_credentials("admin")[1]
    assert stronger.needs_rehash(before)
    new.login("admin", ADMIN_PASSWORD)
    after = SqlAuthStore(sqlite_db).get_credentials("admin")[1]
    assert after != before and not stronger.needs_rehash(after)
    assert new.login("admin", ADMIN_PASSWORD)[1].name == "login"


# -- tokens ----------------------------------------------------------------------------------


def test_create_token_shows_the_secret_once(
    auth: AuthService, root: Principal, make_user: MakeUser, clock: Clock
) -> None:
    ann = make_user("ann")
    clock.advance(SECOND)
    secret, token = auth.create_token(ann, "ci pipeline", expires_in_days=7)
    assert (token.name, token.prefix, token.user_id) == ("ci pipeline", secret[:8], ann.user_id)
    assert (token.created_time, token.expires_time) == (T0 + SECOND, T0 + SECOND + 7 * DAY)
    listed = auth.list_tokens(ann)
    assert [t.name for t in listed] == ["ci pipeline", "login"]
    assert secret not in repr(listed) and secret[8:] not in repr(listed)
    assert last_event(auth, root) == ("ann", "create", "token", token.id)
    assert auth.authenticate(secret).name == "ann"
    clock.advance(7 * DAY - 1)
    assert auth.authenticate(secret).name == "ann"
    clock.advance(1)
    with pytest.raises(Unauth, match=re.escape(f"API token {secret[:8]!r}… has expired")):
        auth.authenticate(secret)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "token name"),
        ({"name": "x" * 129}, "token name"),
        ({"name": "tab\there"}, "token name"),
        ({"role": "owner"}, "role must be one of viewer, editor, admin"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": -3}, "expires_in_days"),
        ({"expires_in_days": True}, "expires_in_days"),
        ({"expires_in_days": 3651}, "expires_in_days"),
        ({"expires_in_days": 1.5}, "expires_in_days"),
    ],
)
def test_bad_token_requests(
    auth: AuthService, root: Principal, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"name": "t"} | kwargs
    with pytest.raises(InvalidInput, match=message):
        auth.create_token(root, **args)  # type: ignore[arg-type]


def test_revoked_tokens_stop_working(
    auth: AuthService, root: Principal, make_user: MakeUser
) -> None:
    ann, bob = make_user("ann"), make_user("bob")
    secret, token = auth.create_token(ann, "ci")
    with pytest.raises(NotFound, match=repr(token.id)):
        auth.revoke_token(bob, token.id)  # not bob's: as if it did not exist
    assert auth.authenticate(secret).name == "ann"
    revoked = auth.revoke_token(ann, token.id)
    assert revoked.revoked_time == T0
    assert last_event(auth, root) == ("ann", "delete", "token", token.id)
    with pytest.raises(Unauth, match="is revoked"):
        auth.authenticate(secret)
    other, other_token = auth.create_token(bob, "ci")
    auth.revoke_token(root, other_token.id)  # a global admin revokes anyone's
    with pytest.raises(Unauth, match="is revoked"):
        auth.authenticate(other)


def test_listing_someone_elses_tokens(
    auth: AuthService, root: Principal, make_user: MakeUser, clock: Clock
) -> None:
    ann, bob = make_user("ann"), make_user("bob")
    clock.advance(SECOND)
    auth.create_token(ann, "ci")
    with pytest.raises(PermissionDenied):
        auth.list_tokens(bob, "ann")
    assert [t.name for t in auth.list_tokens(root, "ann")] == ["ci", "login"]
    assert [t.name for t in auth.list_tokens(ann, "ann")] == ["ci", "login"]


def test_a_token_cannot_create_one_that_outlives_it(
    auth: AuthService, make_user: MakeUser, clock: Clock
) -> None:
    ann = make_user("ann")
    day_secret, _ = auth.create_token(ann, "one-day", expires_in_days=1)
    day = auth.authenticate(day_secret)
    assert (day.token_expires_time, day.session) == (T0 + DAY, False)
    with pytest.raises(PermissionDenied, match=r"cannot create one that outlives it") as raised:
        auth.create_token(day, "forever", expires_in_days=2)
    assert "expires_in_days=2" in raised.value.message
    # Asking for no expiry inherits the parent's, as the role ceiling is inherited.
    child_secret, child = auth.create_token(day, "child")
    assert child.expires_time == T0 + DAY
    clock.advance(DAY // 2)
    grandchild_secret, grandchild = auth.create_token(auth.authenticate(child_secret), "grand")
    assert grandchild.expires_time == T0 + DAY
    clock.advance(DAY // 2)
    for secret in (day_secret, child_secret, grandchild_secret):
        with pytest.raises(Unauth, match="expired"):
            auth.authenticate(secret)


def test_a_login_session_creates_tokens_of_any_lifetime(
    auth: AuthService, make_user: MakeUser
) -> None:
    ann = make_user("ann")  # a login session: it stands for the password
    assert ann.session and ann.token_expires_time == T0 + 30 * DAY
    assert auth.create_token(ann, "ci")[1].expires_time is None
    assert auth.create_token(ann, "yearly", expires_in_days=365)[1].expires_time == T0 + 365 * DAY
    # Which is why no API token may pass for a session by its name.
    with pytest.raises(InvalidInput, match="'login' is reserved for login sessions"):
        auth.create_token(ann, "login")


def test_narrowed_tokens_cannot_list_or_revoke_tokens(
    auth: AuthService, make_user: MakeUser
) -> None:
    ann = make_user("ann")
    auth.create_workspace(ann, "churn")
    _, precious = auth.create_token(ann, "precious")
    viewer = auth.authenticate(auth.create_token(ann, "viewer", role="viewer")[0])
    bound = auth.authenticate(auth.create_token(ann, "bound", workspace="churn")[0])
    for narrowed, limit in ((viewer, "role viewer"), (bound, "one workspace")):
        with pytest.raises(PermissionDenied, match=f"limited to {limit}; only a login session"):
            auth.revoke_token(narrowed, precious.id)
        with pytest.raises(PermissionDenied, match="can list tokens"):
            auth.list_tokens(narrowed)
    assert next(t for t in auth.list_tokens(ann) if t.id == precious.id).revoked_time is None
    # The user's full rights, through an unscoped token, still manage tokens.
    full = auth.authenticate(auth.create_token(ann, "full")[0])
    assert auth.revoke_token(full, precious.id).revoked_time == T0


def test_own_password_needs_a_login_session(auth: AuthService, make_user: MakeUser) -> None:
    ann = make_user("ann")
    api_token = auth.authenticate(auth.create_token(ann, "ci", expires_in_days=1)[0])
    with pytest.raises(PermissionDenied, match="from a login session only"):
        auth.set_password(api_token, "ann", "lasting-password")
    auth.set_password(ann, "ann", "lasting-password")


def test_failed_token_use_is_audited_with_the_prefix_only(
    auth: AuthService, root: Principal, sqlite_db: Database
) -> None:
    forged = "gnm_" + "Q" * 43
    with pytest.raises(Unauth, match="invalid API token"):
        auth.authenticate(forged, address="10.0.0.9")
    event = auth.list_audit(root, action=AuditAction.TOKEN_FAILED)[0]
    assert (event.actor, event.address) == ("anonymous", "10.0.0.9")
    assert event.details == {"reason": "unknown", "prefix": "gnm_QQQQ"}
    assert forged not in str(dump(sqlite_db))


def test_last_used_time_is_written_at_most_once_a_minute(
    auth: AuthService, root: Principal, clock: Clock
) -> None:
    secret, token = auth.create_token(root, "ci")

    def last_used() -> int | None:
        return next(t for t in auth.list_tokens(root) if t.id == token.id).last_used_time

    assert last_used() is None
    auth.authenticate(secret)
    assert last_used() == T0
    clock.advance(MINUTE - 1)
    auth.authenticate(secret)
    assert last_used() == T0
    clock.advance(1)
    auth.authenticate(secret)
    assert last_used() == T0 + MINUTE


# -- first start -----------------------------------------------------------------------------


def test_bootstrap_generates_a_password_once(
    auth: AuthService, sign_in: SignIn, sqlite_db: Database
) -> None:
    assert auth.list_users().items == []
    generated = auth.bootstrap_admin(None)
    assert generated is not None and len(generated) >= 16
    assert generated not in "\n".join(str(value) for value in dump(sqlite_db))
    admin = sign_in("admin", generated)
    assert admin.is_admin and admin.acts_as_admin
    assert auth.bootstrap_admin(None) is None
    assert auth.bootstrap_admin("another-password") is None
    assert [u.name for u in auth.list_users()] == ["admin"]
    event = auth.list_audit(admin, actor="system")[0]
    assert (event.action, event.object_id, event.details) == ("create", "admin", {"is_admin": True})


def test_bootstrap_with_a_given_password(auth: AuthService, sign_in: SignIn) -> None:
    with pytest.raises(InvalidInput, match="at least 8"):
        auth.bootstrap_admin("short")
    assert auth.bootstrap_admin("from-the-environment") is None
    assert sign_in("admin", "from-the-environment").is_admin


# -- no secret at rest -----------------------------------------------------------------------


def dump(db: Database) -> list[object]:
    """Every value of every table."""
    values: list[object] = []
    with db.read() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                values.extend(row)
    return values


def test_no_table_holds_a_password_or_a_token_secret(
    auth: AuthService, root: Principal, sqlite_db: Database
) -> None:
    passwords = [ADMIN_PASSWORD, "ann-password", "ann-new-password"]
    auth.create_user(root, "ann", "ann-password")
    fail(auth, "ann", "10.0.0.1", times=2)
    session, _ = auth.login("ann", "ann-password")
    ann = auth.authenticate(session)
    auth.set_password(ann, "ann", "ann-new-password")
    secrets = [session, auth.create_token(ann, "ci", expires_in_days=1)[0]]
    revoked, token = auth.create_token(ann, "old")
    auth.revoke_token(ann, token.id)
    with pytest.raises(Unauth):
        auth.authenticate(revoked)
    secrets.append(revoked)
    text = "\n".join(str(value) for value in dump(sqlite_db))
    for secret in passwords + secrets + [s[8:] for s in secrets]:
        assert secret not in text
    with sqlite_db.read() as conn:
        stored = set(conn.execute(select(api_tokens.c.token_hash)).scalars())
        hashes = list(conn.execute(select(users.c.password_hash)).scalars())
    assert {hashlib.sha256(s.encode()).hexdigest() for s in secrets} <= stored
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_an_unknown_user_costs_a_password_check_too(
    sqlite_db: Database, clock: Clock, cheap_passwords: Passwords
) -> None:
    """Answering faster for unknown names would tell an attacker which names exist."""

    class Counting(Passwords):
        checks = 0

        def verify(self, hashed: str, password: str) -> bool:
            self.checks += 1
            return super().verify(hashed, password)

    counting = Counting(cheap_passwords.hasher)
    auth = AuthService(
        SqlAuthStore(sqlite_db), SqlAuditStore(sqlite_db), passwords=counting, clock=clock
    )
    auth.bootstrap_admin(ADMIN_PASSWORD)
    for name in ("admin", "nobody"):
        before = counting.checks
        with pytest.raises(Unauth, match=BAD):
            auth.login(name, "wrong-password")
        assert counting.checks == before + 1
