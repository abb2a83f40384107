"""The deployment store contract on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gnomon._types import Scope
from gnomon.deployments.sql import SqlDeploymentStore
from gnomon.store.database import Database
from tests.contract.deployment_contract import DeploymentStoreContract
from tests.fixtures.databases import fresh_workspace


class TestSqliteDeploymentStore(DeploymentStoreContract):
    __test__ = True

    @pytest.fixture
    def db(self, sqlite_uri: str) -> Iterator[Database]:
        db = Database(sqlite_uri)
        yield db
        db.dispose()

    @pytest.fixture
    def store(self, db: Database) -> SqlDeploymentStore:
        return SqlDeploymentStore(db)

    @pytest.fixture
    def scope(self) -> Scope:
        return Scope()

    @pytest.fixture
    def other_scope(self, db: Database) -> Scope:
        return fresh_workspace(db)


@pytest.mark.postgres
class TestPostgresDeploymentStore(DeploymentStoreContract):
    __test__ = True

    @pytest.fixture
    def store(self, postgres_db: Database) -> SqlDeploymentStore:
        return SqlDeploymentStore(postgres_db)

    @pytest.fixture
    def scope(self, postgres_db: Database) -> Scope:
        return fresh_workspace(postgres_db)

    @pytest.fixture
    def other_scope(self, postgres_db: Database) -> Scope:
        return fresh_workspace(postgres_db)
