"""The schema and the migrations change together."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from gnomon.store.database import Database
from gnomon.store.metadata import metadata
from gnomon.store.migrate import (
    alembic_config,
    current_revision,
    ensure_schema,
    head,
    load_all_tables,
)


def test_head_read_from_the_files_matches_alembic() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [head()]


def _diff(db: Database) -> list[object]:
    load_all_tables()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_sqlite_autogenerate_reports_no_diff(sqlite_uri: str) -> None:
    assert _diff(Database(sqlite_uri)) == []


@pytest.mark.postgres
def test_postgres_autogenerate_reports_no_diff(postgres_db: Database) -> None:
    assert _diff(postgres_db) == []


def test_a_new_store_upgrades_itself_on_open(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    ensure_schema(db)
    with db.read() as conn:
        assert current_revision(conn) == head()
    ensure_schema(db)  # idempotent


def test_default_workspace_exists(sqlite_uri: str) -> None:
    from sqlalchemy import select

    from gnomon.auth.tables import workspaces

    with Database(sqlite_uri).read() as conn:
        assert conn.execute(select(workspaces.c.name)).scalars().all() == ["default"]
