"""The schema and the migrations change together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from gnomon.store.database import Database
from gnomon.store.metadata import metadata
from gnomon.store.migrate import (
    alembic_config,
    current_revision,
    ensure_schema,
    head,
    load_all_tables,
    upgrade,
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


def _schema(db: Database) -> dict[str, object]:
    """Every table's columns, keys, indexes and constraints, as the database reports them."""
    with db.engine.connect() as conn:
        seen = inspect(conn)
        tables = sorted(seen.get_table_names())

        def named(items: list[dict[str, Any]]) -> list[str]:
            return sorted(repr(sorted(item.items())) for item in items)

        return {
            table: {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                    for c in seen.get_columns(table)
                ],
                "pk": seen.get_pk_constraint(table),
                "fks": named(seen.get_foreign_keys(table)),
                "indexes": named(seen.get_indexes(table)),
                "uniques": named(seen.get_unique_constraints(table)),
                "checks": named(seen.get_check_constraints(table)),
            }
            for table in tables
        }


def _rows(db: Database) -> tuple[list[object], list[object]]:
    with db.read() as conn:
        names = conn.execute(text("SELECT id, name FROM workspaces")).all()
        return list(names), conn.execute(text("SELECT * FROM alembic_version")).all()


def test_a_new_sqlite_store_from_the_tables_equals_one_migrated(tmp_path: Path) -> None:
    created, migrated = (Database(f"sqlite:///{tmp_path / n}.db") for n in ("new", "old"))
    upgrade(created)
    upgrade(migrated, replay=True)
    assert _schema(created) == _schema(migrated)
    assert _rows(created) == _rows(migrated) == ([("default", "default")], [(head(),)])
    assert _diff(created) == []


@pytest.mark.postgres
def test_a_new_postgres_store_from_the_tables_equals_one_migrated(postgres_uri: str) -> None:
    import psycopg

    admin = postgres_uri.rsplit("/", 1)[0] + "/postgres"
    names = [f"{postgres_uri.rsplit('/', 1)[1]}_{n}" for n in ("new", "old")]
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        created, migrated = (Database(postgres_uri.rsplit("/", 1)[0] + f"/{n}") for n in names)
        upgrade(created)
        upgrade(migrated, replay=True)
        assert _schema(created) == _schema(migrated)
        assert _rows(created) == _rows(migrated)
        created.dispose()
        migrated.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
