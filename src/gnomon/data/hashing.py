"""File digests (XXH3-128, streamed) and a per-machine cache that spares re-reading files whose
size, times and inode are unchanged, so re-versioning an unchanged folder reads no content."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import xxhash

CHUNK = 4 * 1024 * 1024  # large reads: the hash runs at memory speed, syscalls stay few
DIGEST_PREFIX = "xxh128:"
DIGEST_CACHE = Path("cache") / "file-digests.db"  # under GNOMON_HOME: one per machine and home


def digest_bytes(data: bytes) -> str:
    return DIGEST_PREFIX + xxhash.xxh3_128_hexdigest(data)


def digest_file(path: Path, buffer: bytearray | None = None) -> str:
    """The digest of one file's content, read in chunks (never whole into memory)."""
    hasher = xxhash.xxh3_128()
    chunk = buffer if buffer is not None else bytearray(CHUNK)
    view = memoryview(chunk)
    with open(path, "rb", buffering=0) as source:
        while read := source.readinto(chunk):
            hasher.update(view[:read])
    return DIGEST_PREFIX + hasher.hexdigest()


def stat_key(stat: os.stat_result) -> tuple[int, int, int, int]:
    """What says a file is unchanged: ctime moves on any write and cannot be set back."""
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


class DigestCache:
    """Digests by absolute path and stat key, in a SQLite file of this machine's home.

    A lookup that misses (or a cache that cannot be opened) only costs a read of the file.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection | None:
        if self._db is None:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS digests (path TEXT PRIMARY KEY, size INTEGER,"
                    " mtime INTEGER, ctime INTEGER, inode INTEGER, digest TEXT) WITHOUT ROWID"
                )
                self._db = db
            except sqlite3.Error:
                return None
        return self._db

    def lookup(self, files: Iterable[tuple[str, tuple[int, int, int, int]]]) -> dict[str, str]:
        """The cached digest of each ``(absolute path, stat key)`` still matching its key."""
        wanted = dict(files)
        if not wanted:
            return {}
        with self._lock:
            db = self._open()
            if db is None:
                return {}
            try:
                rows = _rows_for(db, list(wanted))
            except sqlite3.Error:
                return {}
        return {
            path: digest
            for path, size, mtime, ctime, inode, digest in rows
            if wanted.get(path) == (size, mtime, ctime, inode)
        }

    def store(self, entries: Iterable[tuple[str, tuple[int, int, int, int], str]]) -> None:
        rows = [(path, *key, digest) for path, key, digest in entries]
        if not rows:
            return
        with self._lock:
            db = self._open()
            if db is None:
                return
            try:
                with db:
                    db.execute("BEGIN")
                    db.executemany("INSERT OR REPLACE INTO digests VALUES (?,?,?,?,?,?)", rows)
            except sqlite3.Error:
                pass  # a cache: the next version reads the files again


def _rows_for(db: sqlite3.Connection, paths: list[str]) -> list[tuple]:
    # One range scan over the common folder beats a query per file.
    low = os.path.commonpath(paths) if len(paths) > 1 else paths[0]
    high = low + "\U0010ffff"
    rows = db.execute(
        "SELECT path, size, mtime, ctime, inode, digest FROM digests WHERE path >= ? AND path <= ?",
        (low, high),
    ).fetchall()
    return rows
