"""Open the stores a Settings object points at, chosen by URI scheme from lazy import strings."""

from __future__ import annotations

import functools
import importlib
import threading
from dataclasses import dataclass
from typing import Any

from gnomon.artifacts import ArtifactStore, open_artifact_store
from gnomon.config import Settings
from gnomon.errors import InvalidInput, NotFound
from gnomon.tracking.service import TrackingService
from gnomon.tracking.store import TrackingStore

# scheme → "module:factory"; a factory takes Settings and returns the capability stores.
SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")
_BACKENDS = {scheme: "gnomon.backends:open_sql" for scheme in SQL_SCHEMES}


@dataclass(frozen=True, slots=True)
class Stores:
    """Every capability's store for one backend."""

    tracking: TrackingStore
    close: Any = None


@dataclass(frozen=True, slots=True)
class Services:
    tracking: TrackingService


def open_stores(settings: Settings) -> Stores:
    uri = settings.store_uri
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    target = _BACKENDS.get(scheme)
    if target is None:
        known = ", ".join(sorted({s.split("+")[0] for s in _BACKENDS}))
        raise InvalidInput(f"unsupported GNOMON_URI scheme {scheme!r} in {uri!r} (known: {known})")
    module, _, factory = target.partition(":")
    result: Stores = getattr(importlib.import_module(module), factory)(settings)
    return result


def open_services(settings: Settings) -> Services:
    stores = open_stores(settings)
    endpoint = settings.s3_endpoint_url
    tracking = TrackingService(
        stores.tracking,
        settings.artifact_root,
        functools.partial(_artifact_store, endpoint=endpoint),
    )
    return Services(tracking=tracking)


def open_sql(settings: Settings) -> Stores:
    from gnomon.tracking.sql import SqlTrackingStore

    db = _database(settings.store_uri)
    _check_workspace(db, settings.workspace)
    return Stores(tracking=SqlTrackingStore(db), close=db.dispose)


_databases: dict[str, Any] = {}
_databases_lock = threading.Lock()


def _database(uri: str) -> Any:
    """One engine per URI per process, upgraded once: clients share a connection pool."""
    from gnomon.store.database import Database
    from gnomon.store.migrate import ensure_schema

    with _databases_lock:
        db = _databases.get(uri)
        if db is None:
            db = Database(uri)
            ensure_schema(db)
            _databases[uri] = db
        return db


def _check_workspace(db: Any, workspace: str) -> None:
    from sqlalchemy import select

    from gnomon.auth.tables import workspaces

    with db.read() as conn:
        found = conn.execute(select(workspaces.c.id).where(workspaces.c.id == workspace)).first()
    if found is None:
        raise NotFound(f"workspace {workspace!r} not found")


@functools.lru_cache(maxsize=256)
def _artifact_store(root: str, endpoint: str | None) -> ArtifactStore:
    return open_artifact_store(root, s3_endpoint_url=endpoint)
