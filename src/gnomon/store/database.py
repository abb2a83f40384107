"""Engine and transactions: the only place that knows SQLite from PostgreSQL plumbing."""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
)

from gnomon._private_files import create_private_file, make_private_dirs
from gnomon.errors import AlreadyExists, GnomonError, InvalidInput, Unavailable

_WRITE = "gnomon_write"
DATABASE_UNAVAILABLE = "the metadata database is unavailable"
logger = logging.getLogger(__name__)


def normalise_uri(uri: str) -> str:
    """Pick the driver we ship for a bare scheme (``postgresql://`` means psycopg 3)."""
    if uri.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + uri.split("://", 1)[1]
    return uri


class Database:
    """One engine and its transactions.

    ``write()`` opens a transaction that takes SQLite's write lock up front (``BEGIN
    IMMEDIATE``), so two writers queue on the busy timeout instead of failing on a lock
    upgrade; ``read()`` opens a plain one. Both translate driver errors into gnomon errors.
    """

    def __init__(self, uri: str, *, echo: bool = False) -> None:
        self.uri = normalise_uri(uri)
        try:
            url = make_url(self.uri)
        except ArgumentError as exc:
            raise InvalidInput(f"invalid database URI {uri!r}") from exc
        self.dialect = url.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise InvalidInput(
                f"unsupported database {self.dialect!r} in {uri!r}: use sqlite:// or postgresql://"
            )
        # (a SQLite "file:" URI, ?uri=true, names what to open in SQLite's own syntax)
        on_disk = url.database not in (None, "", ":memory:") and not url.query.get("uri")
        if self.dialect == "sqlite" and on_disk:
            _create_private_sqlite(Path(str(url.database)).expanduser())
        try:
            self.engine = self._create_engine(echo)
        except (NoSuchModuleError, ModuleNotFoundError) as exc:
            raise InvalidInput(f"no driver for {uri!r}: pip install 'gnomon[postgres]'") from exc
        self._upgraded = threading.Event()

    def _create_engine(self, echo: bool) -> Engine:
        if self.dialect == "postgresql":
            return create_engine(self.uri, echo=echo, pool_pre_ping=True, pool_size=10)
        engine = create_engine(
            self.uri, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with translate_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with (
            translate_errors(),
            self.engine.connect().execution_options(**{_WRITE: True}) as conn,
            conn.begin(),
        ):
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def insert_for(db: Database) -> Any:
    """The dialect's INSERT with ON CONFLICT, imported for that dialect only: PostgreSQL's
    pulls in its async drivers' modules, 30 ms an embedded client need not pay."""
    if db.is_sqlite:
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert


def _create_private_sqlite(path: Path) -> None:
    # SQLite would create the file 0644 under a usual umask. An empty file is a valid new
    # database, and SQLite gives its -wal and -shm files the database file's mode.
    try:
        make_private_dirs(path.parent)
        create_private_file(path)
    except OSError as exc:
        raise Unavailable(f"cannot create the database file '{path}': {exc.strerror}") from exc


def _switch_to_wal(cursor: Any, attempts: int = 100) -> None:
    """``journal_mode=WAL``, waiting out other processes opening a new file at the same time:
    the switch answers "locked" at once, without the busy timeout, while another connection
    holds the file (seen with four writers starting together)."""
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05 + random.random() * 0.05)


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own handling defers it).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    _switch_to_wal(cursor)
    # NORMAL in WAL mode: a committed transaction survives a crash of the process (SIGKILL);
    # only an OS crash or power loss can lose the last ones. FULL costs an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Searches hop between tables by run id; keep hot pages in memory (64 MiB cache, 256 MiB
    # memory-mapped reads) instead of the 2 MiB default.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn driver errors into gnomon errors at the store boundary."""
    try:
        yield
    except GnomonError:
        raise
    except IntegrityError as exc:
        raise AlreadyExists(f"conflicting write: {_first_line(exc)}") from exc
    except OperationalError as exc:
        # Lost connections, a locked or read-only SQLite file, a full disk: the database's
        # state, not the caller's input, so 503 (the driver's words go to the log only).
        raise _unavailable(exc) from exc
    except (DataError, OverflowError) as exc:
        # A value the column cannot hold (out of range, NUL in text; sqlite3 raises
        # OverflowError past int64): the wire types refuse these first; this backstop keeps
        # an unchecked path from becoming a 500.
        logger.warning("the metadata database refused a value: %s", _first_line(exc))
        raise InvalidInput("a value is out of range or not storable in the database") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise _unavailable(exc) from exc
        raise


def _unavailable(exc: DBAPIError) -> Unavailable:
    # The driver's words name the host, port, user or file: the log's, never a remote caller's.
    logger.warning("the metadata database is unavailable: %s", _first_line(exc))
    return Unavailable(DATABASE_UNAVAILABLE)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
