"""A live server reads records written under the workspace's name before they were keyed by
id: the first read moves them, and acknowledged outcomes still join their records."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import insert

import gnomon
from gnomon._types import Scope, now_ms
from gnomon.auth.tables import workspaces
from gnomon.predictions.legacy import legacy_store
from gnomon.registry.entities import NewVersion
from tests.fixtures.old_predictions import files, write_old_layout
from tests.fixtures.server import LiveServer


def test_the_server_moves_and_reads_the_old_layout(open_server: LiveServer, tmp_path: Path) -> None:
    services = open_server.services
    assert services.database is not None and services.registry and services.deployments
    workspace_id, name = uuid.uuid4().hex, f"team-{uuid.uuid4().hex[:8]}"
    with services.database.write() as conn:
        conn.execute(insert(workspaces).values(id=workspace_id, name=name, created_time=now_ms()))
    scope = Scope(workspace_id, "tester")
    services.registry.create_version(scope, "churn", NewVersion("import:c", "/tmp/c", "ann"))
    services.deployments.create(scope, "web", "churn/1")
    old = legacy_store(open_server.settings.artifact_root, name)
    write_old_layout(old)

    settings = gnomon.Settings(uri=open_server.url, workspace=name, home=tmp_path)
    frame = gnomon.Client(settings=settings).deployments.records("web")

    assert frame["request_id"].tolist() == ["r0", "r1", "r2"]
    assert frame["outcome"].tolist() == [1, None, 0]
    assert files(old) == []
