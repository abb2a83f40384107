"""The deployment store contract on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from gnomon.deployments.sql import SqlDeploymentStore
from gnomon.store.database import Database
from tests.contract.deployment_contract import DeploymentStoreContract
from tests.fixtures.databases import OnPostgres, OnSqlite


class TestSqliteDeploymentStore(OnSqlite, DeploymentStoreContract):
    __test__ = True

    @pytest.fixture
    def store(self, db: Database) -> SqlDeploymentStore:
        return SqlDeploymentStore(db)


class TestPostgresDeploymentStore(OnPostgres, DeploymentStoreContract):
    __test__ = True

    @pytest.fixture
    def store(self, db: Database) -> SqlDeploymentStore:
        return SqlDeploymentStore(db)
