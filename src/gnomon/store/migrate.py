"""Schema upgrades through Alembic; every store upgrades itself on open."""

from __future__ import annotations

import importlib
from pathlib import Path

from sqlalchemy import Connection, inspect, text

from gnomon.store.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"

# Newest revision in migrations/versions; tests/migrations checks it equals Alembic's head.
# Knowing it without loading Alembic keeps opening an up-to-date store fast.
HEAD = "0005"

# Modules whose tables live on the shared metadata; Alembic must see all of them.
TABLE_MODULES = (
    "gnomon.auth.tables",
    "gnomon.tracking.tables",
    "gnomon.registry.tables",
    "gnomon.deployments.tables",
)


def load_all_tables() -> None:
    for name in TABLE_MODULES:
        importlib.import_module(name)


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(db: Database) -> None:
    """Upgrade to the newest schema unless the database is already there (cheap check)."""
    with db.read() as conn:
        if current_revision(conn) == HEAD:
            return
    upgrade(db)


def upgrade(db: Database, revision: str = "head") -> str | None:
    """Run every pending migration; returns the revision the database is at afterwards."""
    from alembic import command

    with db.write() as conn:
        # SQLite's write() holds the write lock; on PostgreSQL two processes opening a new
        # database at once are serialised by an advisory lock.
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7236319001)"))
        command.upgrade(_alembic_config(conn), revision)
    with db.read() as conn:
        return current_revision(conn)


def _alembic_config(conn: Connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config
