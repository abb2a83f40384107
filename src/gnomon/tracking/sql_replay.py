"""Replayed batches: a client retries a batch whose answer it never saw (a timeout, a reset
connection, a proxy's 502), though the server may have committed it. Params and tags are
idempotent already (the same value again is accepted); metric points are not, so a batch's
points already stored with the same (key, step, timestamp, value) are skipped.

Consequence: the same point sent again in a later batch is stored once (it carries no new
information); repeats inside one batch are kept as logged. Two copies of one batch committed
concurrently (a retry racing its still-running original on PostgreSQL) can still both land.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Connection, Dialect

from gnomon.store import driver_sql

KEYS_PER_QUERY = 500  # keeps each IN list far below SQLite's bound-variable limit


Point = tuple[str, str, int, int, float | None]  # run_id, key, step, timestamp, value


def unstored_points(conn: Connection, run_id: str, rows: list[Point]) -> list[Point]:
    """``rows`` (metrics table rows of ``run_id``, as tuples) minus those already stored."""
    if not rows:
        return rows
    steps = [row[2] for row in rows]
    times = [row[3] for row in rows]
    keys = sorted({row[1] for row in rows})
    bounds = (min(steps), max(steps), min(times), max(times))
    stored: set[tuple[Any, ...]] = set()
    # The (run_id, key, step, timestamp, value) index answers this without reading the table;
    # a training loop's new steps are past the stored ones, so it usually finds nothing.
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[start : start + KEYS_PER_QUERY]
        sql = _stored_sql(conn.dialect, len(chunk))
        stored.update(driver_sql.rows(conn, sql, (run_id, *chunk, *bounds)))
    if not stored:
        return rows
    return [r for r in rows if r[1:] not in stored]


@functools.lru_cache(maxsize=64)
def _stored_sql(dialect: Dialect, width: int) -> str:
    # Plain text per list width: building the SQLAlchemy statement cost more than running it.
    m, q = driver_sql.marker(dialect), dialect.identifier_preparer.quote
    keys = ", ".join([m] * width)
    return (
        f"SELECT {q('key')}, step, {q('timestamp')}, value FROM metrics "
        f"WHERE run_id = {m} AND {q('key')} IN ({keys}) "
        f"AND step BETWEEN {m} AND {m} AND {q('timestamp')} BETWEEN {m} AND {m}"
    )
