"""The tracking store contract on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gnomon._types import Scope
from gnomon.client.transport import Transport
from gnomon.store.database import Database
from gnomon.tracking.http import HttpTrackingStore
from gnomon.tracking.sql import SqlTrackingStore
from tests.contract.tracking_contract import TrackingStoreContract
from tests.fixtures.databases import OnPostgres, OnSqlite, fresh_workspace
from tests.fixtures.server import LiveServer


class TestSqliteTrackingStore(OnSqlite, TrackingStoreContract):
    __test__ = True

    @pytest.fixture
    def store(self, db: Database) -> SqlTrackingStore:
        return SqlTrackingStore(db)


class TestPostgresTrackingStore(OnPostgres, TrackingStoreContract):
    __test__ = True

    @pytest.fixture
    def store(self, db: Database) -> SqlTrackingStore:
        return SqlTrackingStore(db)


class TestHttpTrackingStore(TrackingStoreContract):
    """The same contract through a live server: the HTTP store must be indistinguishable."""

    __test__ = True

    @pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
    def open_server(self, request: pytest.FixtureRequest) -> LiveServer:
        name = "open_server" if request.param == "sqlite" else "open_server_postgres"
        server: LiveServer = request.getfixturevalue(name)
        return server

    @pytest.fixture
    def store(self, open_server: LiveServer) -> Iterator[HttpTrackingStore]:
        transport = Transport(open_server.url, retries=0)
        yield HttpTrackingStore(transport)
        transport.close()

    @pytest.fixture
    def scope(self, open_server: LiveServer) -> Scope:
        assert open_server.services.database is not None
        return fresh_workspace(open_server.services.database)

    @pytest.fixture
    def other_scope(self, open_server: LiveServer) -> Scope:
        assert open_server.services.database is not None
        return fresh_workspace(open_server.services.database)
