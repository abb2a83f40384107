"""The registry store contract on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from gnomon.registry.sql import SqlRegistryStore
from gnomon.store.database import Database
from tests.contract.registry_contract import RegistryStoreContract
from tests.fixtures.databases import OnPostgres, OnSqlite


class TestSqliteRegistryStore(OnSqlite, RegistryStoreContract):
    __test__ = True

    @pytest.fixture
    def store(self, db: Database) -> SqlRegistryStore:
        return SqlRegistryStore(db)


class TestPostgresRegistryStore(OnPostgres, RegistryStoreContract):
    __test__ = True

    @pytest.fixture
    def store(self, db: Database) -> SqlRegistryStore:
        return SqlRegistryStore(db)
