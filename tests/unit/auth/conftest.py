"""An auth service over a fresh migrated SQLite file, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from gnomon.auth.entities import Principal
from gnomon.auth.passwords import Passwords
from gnomon.auth.service import AuthService
from gnomon.auth.sql import SqlAuthStore
from gnomon.auth.sql_audit import SqlAuditStore
from gnomon.store.database import Database
from tests.unit.auth.support import ADMIN_PASSWORD, Clock, password_of

SignIn = Callable[[str, str], Principal]
MakeUser = Callable[..., Principal]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cheap_passwords() -> Passwords:
    # The cheapest argon2 parameters: the real ones cost a third of a second per hash.
    return Passwords(PasswordHasher.from_parameters(CHEAPEST))


@pytest.fixture
def auth(sqlite_db: Database, clock: Clock, cheap_passwords: Passwords) -> AuthService:
    store, audit = SqlAuthStore(sqlite_db), SqlAuditStore(sqlite_db)
    return AuthService(store, audit, passwords=cheap_passwords, clock=clock)


@pytest.fixture
def sign_in(auth: AuthService) -> SignIn:
    """Log in and authenticate with the session token: the principal a route would see."""

    def sign_in(name: str, password: str) -> Principal:
        secret, _ = auth.login(name, password)
        return auth.authenticate(secret)

    return sign_in


@pytest.fixture
def root(auth: AuthService, sign_in: SignIn) -> Principal:
    """The bootstrapped global administrator, logged in."""
    auth.bootstrap_admin(ADMIN_PASSWORD)
    return sign_in("admin", ADMIN_PASSWORD)


@pytest.fixture
def make_user(auth: AuthService, root: Principal, sign_in: SignIn) -> MakeUser:
    """Create a user (password ``<name>-password``) and log it in."""

    def make_user(name: str, is_admin: bool = False) -> Principal:
        auth.create_user(root, name, password_of(name), is_admin=is_admin)
        return sign_in(name, password_of(name))

    return make_user
