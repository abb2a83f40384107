"""Plain SQL strings for the hottest reads, run with ``Connection.exec_driver_sql``.

SQLAlchemy Core builds, caches and post-processes a statement on every call: for a search
page that is five times the database's own time. The few reads and writes that run on every
search, history read and logged batch have fixed shapes, so their text is built once per
dialect (and list length) and executed as is, in the same connection and transaction as
everything else.
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.exc import OperationalError


def rows(
    conn: Connection, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
) -> list[tuple[Any, ...]]:
    """Every row of ``sql`` as the driver's own tuples. It runs through SQLAlchemy (its error
    handling, the transaction), but the rows are fetched straight off the cursor: wrapping
    each in a ``Row`` cost as much as reading it for a 1,000-point history."""
    result = conn.exec_driver_sql(sql, params)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def bounded_rows(
    conn: Connection, sql: str, params: Sequence[Any] | Mapping[str, Any], steps: int
) -> list[tuple[Any, ...]] | None:
    """``rows``, or None when SQLite needs more than about ``steps`` virtual-machine
    instructions: a way to try a plan and drop it if it turns out to be the slow one."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection), "a bounded read needs SQLite"
    done = 0

    def progress() -> int:
        nonlocal done
        done += _STEPS_PER_CALL
        return int(done > steps)  # non-zero interrupts the statement (a read: nothing undone)

    driver.set_progress_handler(progress, _STEPS_PER_CALL)
    try:
        return rows(conn, sql, params)
    except OperationalError as exc:
        if isinstance(exc.orig, sqlite3.OperationalError) and "interrupted" in str(exc.orig):
            return None
        raise
    finally:
        driver.set_progress_handler(None, 0)


_STEPS_PER_CALL = 1_000


def marker(dialect: Dialect) -> str:
    """The driver's positional parameter marker: ``?`` (sqlite3) or ``%s`` (psycopg)."""
    return "?" if dialect.paramstyle in ("qmark", "numeric") else "%s"


@functools.lru_cache(maxsize=64)
def insert(dialect: Dialect, table: Table, columns: tuple[str, ...], count: int = 1) -> str:
    """``INSERT INTO table (columns) VALUES (markers)``, for ``executemany`` of tuples; with
    ``count``, that many rows of markers, for one execute of the rows' values in a row."""
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    row = "(" + ", ".join([marker(dialect)] * len(columns)) + ")"
    return f"INSERT INTO {quote(table.name)} ({names}) VALUES {', '.join([row] * count)}"


# Rows per multi-row INSERT on SQLite: 512 x a few columns stays far below its limit of
# 32,766 parameters a statement.
_MULTI_ROWS = 512


def insert_rows(
    conn: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order). SQLite takes them as multi-row INSERTs
    (``multi_row_chunks``): a fifth less time than ``executemany``, which runs the statement
    once a row. Other drivers ``executemany`` (psycopg pipelines it)."""
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(insert(conn.dialect, table, columns), list(rows))
        return
    for chunk in multi_row_chunks(rows):
        sql = insert(conn.dialect, table, columns, len(chunk))
        conn.exec_driver_sql(sql, tuple(itertools.chain.from_iterable(chunk)))


def multi_row_chunks(rows: Sequence[Sequence[Any]]) -> Iterator[Sequence[Sequence[Any]]]:
    """``rows`` in chunks of 512, 256, ... rows, one multi-row statement each: the few sizes
    keep the driver's statement cache (and ``insert``'s) warm."""
    start = 0
    while start < len(rows):
        count = min(_MULTI_ROWS, 1 << ((len(rows) - start).bit_length() - 1))
        yield rows[start : start + count]
        start += count


@functools.lru_cache(maxsize=16)
def select_by(
    dialect: Dialect,
    table: Table,
    columns: tuple[str, ...],
    suffix: str = "",
    returned: tuple[str, ...] = (),
) -> str:
    """``SELECT`` the ``returned`` columns of ``table`` (all when empty) ``WHERE`` each of
    ``columns`` equals a marker, then ``suffix`` (a lock clause; dropped on SQLite, whose
    writers queue already)."""
    m, quote = marker(dialect), dialect.identifier_preparer.quote
    every = ", ".join(quote(name) for name in returned or (c.name for c in table.c))
    where = " AND ".join(f"{quote(c)} = {m}" for c in columns)
    sql = f"SELECT {every} FROM {quote(table.name)} WHERE {where}"
    return f"{sql} {suffix}" if suffix and dialect.name != "sqlite" else sql
