"""The embedded online store: a SQLite file of its own (default ``<GNOMON_HOME>/features/
online.db``), apart from the metadata database so materialising never holds that one's lock.

One row per entity and view: the key (namespace + entity) as the primary key of a table
without rowids, so a lookup is one B-tree search, and the packed value. The event and created
times are columns too, for the upsert's newest-wins condition. WAL lets readers go on while a
materialisation writes; ``synchronous=NORMAL`` may lose the last commits on a power cut, never
consistency, and materialising again restores them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from gnomon.features.online import (
    OnlineRead,
    OnlineView,
    Packed,
    Unpacker,
    stored_keys,
    view_prefix,
)

WRITE_CHUNK = 50_000  # rows per executemany
CACHE_KIB = 65_536  # page cache per connection: a 100,000-entity view's pages stay in it
READ_CHUNK = 5_000  # keys per SELECT (SQLite allows 32,766 parameters)
MIN_INT64 = -(1 << 63)
SCHEMA = """
CREATE TABLE IF NOT EXISTS online_values (
    key BLOB PRIMARY KEY, event_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL,
    value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS online_meta (
    namespace TEXT PRIMARY KEY, watermark_ms INTEGER, freshness_ms INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS online_stale (
    namespace TEXT PRIMARY KEY, stale INTEGER NOT NULL
) WITHOUT ROWID;
"""
UPSERT = """
INSERT INTO online_values (key, event_ms, created_ms, value) VALUES (?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET
    event_ms = excluded.event_ms, created_ms = excluded.created_ms, value = excluded.value
WHERE (excluded.event_ms, excluded.created_ms) >= (online_values.event_ms, online_values.created_ms)
"""
FRESHNESS = """
INSERT INTO online_meta (namespace, freshness_ms) VALUES (?, ?)
ON CONFLICT (namespace) DO UPDATE SET
    freshness_ms = max(
        coalesce(online_meta.freshness_ms, excluded.freshness_ms), excluded.freshness_ms
    )
"""
WATERMARK = """
INSERT INTO online_meta (namespace, watermark_ms) VALUES (?, ?)
ON CONFLICT (namespace) DO UPDATE SET watermark_ms = excluded.watermark_ms
"""


STALE = """
INSERT INTO online_stale (namespace, stale) VALUES (?, ?)
ON CONFLICT (namespace) DO UPDATE SET stale = stale + excluded.stale
"""


def default_path(home: Path) -> Path:
    return home / "features" / "online.db"


class SqliteOnlineStore:
    """Online values in a SQLite file; one connection per thread."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._conn().executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def write(self, workspace: str, view: OnlineView, rows: Iterable[Packed]) -> int:
        namespace = view.namespace(workspace)
        prefix = namespace.encode() + b":"
        conn, written, newest = self._conn(), 0, None
        iterator = iter(rows)
        conn.execute("BEGIN IMMEDIATE")
        try:
            while chunk := list(islice(iterator, WRITE_CHUNK)):
                # In key order SQLite appends to B-tree pages instead of splitting random ones
                # (twice as fast); an entity's rows then come oldest first, so newest wins.
                params = sorted(
                    (prefix + key, event, MIN_INT64 if created is None else created, value)
                    for key, event, created, value in chunk
                )
                conn.executemany(UPSERT, params)
                top = max(row[1] for row in params)
                newest = top if newest is None else max(newest, top)
                written += len(params)
            if newest is not None:
                conn.execute(FRESHNESS, (namespace, newest))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return written

    def read(
        self,
        workspace: str,
        view: OnlineView,
        keys: Sequence[tuple[Any, ...]],
        features: Sequence[str] | None = None,
        ttl_ms: int | None = None,
        now_ms: int | None = None,
    ) -> OnlineRead:
        unpack = Unpacker(view, features, ttl_ms, now_ms)
        wanted = stored_keys(view.namespace(workspace).encode() + b":", view, keys)
        conn, found = self._conn(), dict[bytes, bytes]()
        for start in range(0, len(wanted), READ_CHUNK):
            chunk = wanted[start : start + READ_CHUNK]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT key, value FROM online_values WHERE key IN ({marks})"
            found.update(conn.execute(sql, chunk).fetchall())
        return unpack.read(found.get(key) for key in wanted)

    def watermark(self, workspace: str, view: OnlineView) -> int | None:
        return self._meta(workspace, view, "watermark_ms")

    def set_watermark(self, workspace: str, view: OnlineView, watermark_ms: int) -> None:
        self._conn().execute(WATERMARK, (view.namespace(workspace), int(watermark_ms)))

    def freshness(self, workspace: str, view: OnlineView) -> int | None:
        return self._meta(workspace, view, "freshness_ms")

    def count_stale(self, workspace: str, view: OnlineView, count: int) -> None:
        if count > 0:
            self._conn().execute(STALE, (view.namespace(workspace), int(count)))

    def stale_total(self, workspace: str, view: OnlineView) -> int:
        sql = "SELECT stale FROM online_stale WHERE namespace = ?"
        row = self._conn().execute(sql, (view.namespace(workspace),)).fetchone()
        return 0 if row is None else int(row[0])

    def _meta(self, workspace: str, view: OnlineView, column: str) -> int | None:
        sql = f"SELECT {column} FROM online_meta WHERE namespace = ?"
        row = self._conn().execute(sql, (view.namespace(workspace),)).fetchone()
        return None if row is None else row[0]

    def delete(self, workspace: str, view_name: str) -> None:
        prefix = view_prefix(workspace, view_name)
        # ':' + 1 is ';': every key and namespace under the prefix sorts in [prefix, upper).
        upper = prefix[:-1] + ";"
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "DELETE FROM online_values WHERE key >= ? AND key < ?",
                (prefix.encode(), upper.encode()),
            )
            conn.execute(
                "DELETE FROM online_meta WHERE namespace >= ? AND namespace < ?", (prefix, upper)
            )
            conn.execute(
                "DELETE FROM online_stale WHERE namespace >= ? AND namespace < ?", (prefix, upper)
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
