"""The RegistryApi contract embedded on SQLite and PostgreSQL, and through a live server."""

from __future__ import annotations

from tests.contract.registry_api_contract import RegistryApiContract
from tests.fixtures.api_modes import EmbeddedPostgres, EmbeddedSqlite, OverHttp


class TestSqliteRegistryApi(EmbeddedSqlite, RegistryApiContract):
    __test__ = True


class TestPostgresRegistryApi(EmbeddedPostgres, RegistryApiContract):
    __test__ = True


class TestHttpRegistryApi(OverHttp, RegistryApiContract):
    __test__ = True
