"""Plain SQL strings for the hottest reads, run with ``Connection.exec_driver_sql``.

SQLAlchemy Core builds, caches and post-processes a statement on every call: for a search
page that is five times the database's own time. The few reads and writes that run on every
search, history read and logged batch have fixed shapes, so their text is built once per
dialect (and list length) and executed as is, in the same connection and transaction as
everything else.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table


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


def marker(dialect: Dialect) -> str:
    """The driver's positional parameter marker: ``?`` (sqlite3) or ``%s`` (psycopg)."""
    return "?" if dialect.paramstyle in ("qmark", "numeric") else "%s"


@functools.lru_cache(maxsize=64)
def insert(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> str:
    """``INSERT INTO table (columns) VALUES (markers)``, for ``executemany`` of tuples."""
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    markers = ", ".join([marker(dialect)] * len(columns))
    return f"INSERT INTO {quote(table.name)} ({names}) VALUES ({markers})"
