"""The tracking store contract on SQLite, on PostgreSQL, and through a live server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from gnomon._types import Scope
from gnomon.auth.tables import workspaces
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
    def store(self, open_server: LiveServer) -> Iterator[PerWorkspace]:
        assert open_server.services.database is not None
        per_workspace = PerWorkspace(open_server.url, open_server.services.database)
        yield per_workspace
        per_workspace.close()

    @pytest.fixture
    def scope(self, open_server: LiveServer) -> Scope:
        assert open_server.services.database is not None
        return fresh_workspace(open_server.services.database)

    @pytest.fixture
    def other_scope(self, open_server: LiveServer) -> Scope:
        assert open_server.services.database is not None
        return fresh_workspace(open_server.services.database)


class PerWorkspace:
    """HTTP tracking stores, one per workspace. An HTTP store acts in its transport's
    workspace, named in a header; a remote client's scope is always that workspace's (by
    id). The suite passes scopes of two workspaces, so each call goes through the store of
    its scope's workspace, as two remote clients would."""

    def __init__(self, url: str, db: Database) -> None:
        self.url, self.db = url, db
        self.transports: dict[str, Transport] = {}

    def __getattr__(self, method: str) -> Callable[..., Any]:
        def call(scope: Scope, *args: Any, **kwargs: Any) -> Any:
            return getattr(HttpTrackingStore(self._transport(scope)), method)(
                scope, *args, **kwargs
            )

        return call

    def _transport(self, scope: Scope) -> Transport:
        if scope.workspace not in self.transports:
            with self.db.read() as conn:
                query = select(workspaces.c.name).where(workspaces.c.id == scope.workspace)
                name = conn.execute(query).scalar_one()
            self.transports[scope.workspace] = Transport(self.url, workspace=name, retries=0)
        return self.transports[scope.workspace]

    def close(self) -> None:
        for transport in self.transports.values():
            transport.close()
