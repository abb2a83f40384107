"""Schema upgrades through Alembic; every store upgrades itself on open."""

from __future__ import annotations

import functools
import importlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, inspect, text

from gnomon import capabilities
from gnomon.store.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^(down_revision|revision)\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


def load_all_tables() -> None:
    """Import every capability's tables onto the shared metadata; Alembic must see them all."""
    for name in capabilities.table_modules():
        importlib.import_module(name)


def version_folders() -> list[Path]:
    """The revisions of the shared history (0001-0005 span several capabilities), then each
    capability's own folder; revisions form one linear chain across the folders."""
    return [MIGRATIONS / "versions", *capabilities.migration_folders()]


@functools.cache
def head() -> str:
    """The newest revision, read from the revision files without loading Alembic, so opening
    an up-to-date store stays fast; tests/migrations checks it equals Alembic's head."""
    revisions: dict[str, str | None] = {}
    for source in _revision_files():
        found = dict(_REVISION.findall(source.read_text(encoding="utf-8")))
        revisions[found["revision"]] = found.get("down_revision")
    parents = set(revisions.values())
    heads = [revision for revision in revisions if revision not in parents]
    if len(heads) != 1:
        raise RuntimeError(f"migrations must form one chain, found heads {sorted(heads)}")
    return heads[0]


def _revision_files() -> Iterator[Path]:
    for folder in version_folders():
        yield from sorted(folder.glob("[0-9]*.py"))


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(db: Database) -> None:
    """Upgrade to the newest schema unless the database is already there (cheap check)."""
    with db.read() as conn:
        if current_revision(conn) == head():
            return
    upgrade(db)


def upgrade(db: Database, revision: str = "head", *, replay: bool = False) -> str | None:
    """Run every pending migration; returns the revision the database is at afterwards.

    An empty database brought to the head is created from the tables' definitions and
    stamped, without loading Alembic (a tenth of a second of every new store, every test's
    and demo's among them); ``replay`` runs every migration instead. tests/migrations checks
    that both give the same schema."""
    with db.write() as conn:
        # SQLite's write() holds the write lock; on PostgreSQL two processes opening a new
        # database at once are serialised by an advisory lock.
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7236319001)"))
        if revision == "head" and not replay and not inspect(conn).get_table_names():
            _create_at_head(conn)
        else:
            from alembic import command

            command.upgrade(alembic_config(conn), revision)
    with db.read() as conn:
        return current_revision(conn)


def _create_at_head(conn: Connection) -> None:
    """The newest schema in an empty database: every table, the rows the migrations seed
    (the default workspace) and Alembic's version table at the head, as Alembic writes it."""
    from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, insert

    from gnomon._types import now_ms
    from gnomon.store.metadata import metadata

    load_all_tables()
    metadata.create_all(conn)
    workspaces = metadata.tables["workspaces"]
    conn.execute(insert(workspaces).values(id="default", name="default", created_time=now_ms()))
    version = Table(
        "alembic_version",
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )
    version.create(conn)
    conn.execute(insert(version).values(version_num=head()))


def alembic_config(conn: Connection | None = None):  # type: ignore[no-untyped-def]
    """Alembic's configuration: gnomon's script folder and every capability's revisions."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic splits this option on the separator it is told to use.
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(map(str, version_folders())))
    if conn is not None:
        config.attributes["connection"] = conn
    return config
