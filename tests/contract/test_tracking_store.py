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
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.server import LiveServer


class TestSqliteTrackingStore(TrackingStoreContract):
    __test__ = True

    @pytest.fixture
    def db(self, sqlite_uri: str) -> Iterator[Database]:
        db = Database(sqlite_uri)
        yield db
        db.dispose()

    @pytest.fixture
    def store(self, db: Database) -> SqlTrackingStore:
        return SqlTrackingStore(db)

    @pytest.fixture
    def scope(self) -> Scope:
        return Scope()

    @pytest.fixture
    def other_scope(self, db: Database) -> Scope:
        return fresh_workspace(db)


@pytest.mark.postgres
class TestPostgresTrackingStore(TrackingStoreContract):
    __test__ = True

    @pytest.fixture
    def store(self, postgres_db: Database) -> SqlTrackingStore:
        return SqlTrackingStore(postgres_db)

    @pytest.fixture
    def scope(self, postgres_db: Database) -> Scope:
        return fresh_workspace(postgres_db)

    @pytest.fixture
    def other_scope(self, postgres_db: Database) -> Scope:
        return fresh_workspace(postgres_db)


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
