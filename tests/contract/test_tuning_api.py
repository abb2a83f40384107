"""The TuningApi contract embedded on SQLite and PostgreSQL, and through a live server."""

from __future__ import annotations

from tests.contract.tuning_api_contract import TuningApiContract
from tests.fixtures.api_modes import EmbeddedPostgres, EmbeddedSqlite, OverHttp


class TestSqliteTuningApi(EmbeddedSqlite, TuningApiContract):
    __test__ = True


class TestPostgresTuningApi(EmbeddedPostgres, TuningApiContract):
    __test__ = True


class TestHttpTuningApi(OverHttp, TuningApiContract):
    __test__ = True
