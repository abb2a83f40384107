"""The auth and audit store contracts on SQLite and on PostgreSQL.

Users are global, not scoped by workspace, so each PostgreSQL test gets an empty database of
its own, copied from a migrated template (``CREATE DATABASE … TEMPLATE``), as each SQLite
test copies a migrated file.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from gnomon.auth.sql import SqlAuthStore
from gnomon.auth.sql_audit import SqlAuditStore
from gnomon.store.database import Database
from gnomon.store.migrate import upgrade
from tests.contract.auth_contract import AuditStoreContract, AuthStoreContract


@pytest.fixture(scope="session")
def postgres_template(postgres_uri: str) -> Iterator[str]:
    import psycopg

    server = postgres_uri.rsplit("/", 1)[0]
    name = f"gnomon_auth_template_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = Database(f"{server}/{name}")
    upgrade(db)
    db.dispose()  # a template must have no open connections to be copied
    yield name
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_postgres_db(postgres_uri: str, postgres_template: str) -> Iterator[Database]:
    import psycopg

    name = f"gnomon_auth_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    db = Database(f"{postgres_uri.rsplit('/', 1)[0]}/{name}")
    yield db
    db.dispose()
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class TestSqliteAuthStore(AuthStoreContract):
    __test__ = True

    @pytest.fixture
    def store(self, sqlite_db: Database) -> SqlAuthStore:
        return SqlAuthStore(sqlite_db)


class TestSqliteAuditStore(AuditStoreContract):
    __test__ = True

    @pytest.fixture
    def audit(self, sqlite_db: Database) -> SqlAuditStore:
        return SqlAuditStore(sqlite_db)


@pytest.mark.postgres
class TestPostgresAuthStore(AuthStoreContract):
    __test__ = True

    @pytest.fixture
    def store(self, empty_postgres_db: Database) -> SqlAuthStore:
        return SqlAuthStore(empty_postgres_db)


@pytest.mark.postgres
class TestPostgresAuditStore(AuditStoreContract):
    __test__ = True

    @pytest.fixture
    def audit(self, empty_postgres_db: Database) -> SqlAuditStore:
        return SqlAuditStore(empty_postgres_db)
