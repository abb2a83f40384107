"""The DeploymentsApi contract embedded on SQLite and PostgreSQL, and through a live server."""

from __future__ import annotations

from tests.contract.deployments_api_contract import DeploymentsApiContract
from tests.fixtures.api_modes import EmbeddedPostgres, EmbeddedSqlite, OverHttp


class TestSqliteDeploymentsApi(EmbeddedSqlite, DeploymentsApiContract):
    __test__ = True


class TestPostgresDeploymentsApi(EmbeddedPostgres, DeploymentsApiContract):
    __test__ = True


class TestHttpDeploymentsApi(OverHttp, DeploymentsApiContract):
    __test__ = True
