"""A finished run's metric series, packed: one row per key with its steps, timestamps and
values as little-endian int64/int64/float64 arrays, in (step, timestamp) order.

Reading a 1,000-point history row by row costs the driver 4,000 Python objects; the packed
row is three byte strings. A series only changes while its run is RUNNING (``log_batch``
refuses any other run), so a run is packed in the transaction that ends it and unpacked in the
one that sets it RUNNING again; the ``metrics`` rows stay the record, and a run without packs
(running, or ended before packs existed) is read from them. On PostgreSQL ``log_batch`` holds
a share lock on the run row, so a batch and the end of its run cannot interleave.
"""

from __future__ import annotations

import functools
import math
import sys
from array import array
from collections.abc import Iterable, Sequence
from itertools import groupby, repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect, delete

from gnomon.store import driver_sql
from gnomon.tracking.entities import Metric
from gnomon.tracking.tables import metric_packs

# A longer series stays in rows (2.4 MB a pack), and ending a run reads at most about
# PACK_BUDGET points: the end holds the write lock meanwhile (a second, here, for a million).
MAX_PACKED_POINTS = 100_000
PACK_BUDGET = 1_000_000
KEY_COST = 100  # a key's read counts as this many points: a query costs what ~100 points do
_SWAP = sys.byteorder == "big"  # stored little-endian, whatever the host
_COLUMNS = ("run_id", "key", "points", "step_bytes", "time_bytes", "value_bytes")


def pack_run(conn: Connection, run_id: str) -> None:
    """Pack every series of ``run_id`` from its ``metrics`` rows (the run is ending)."""
    keys, points, whole = _pack_sql(conn.dialect)
    # Most runs fit in one ordered read of the index; a larger one is read key by key, each
    # bounded, so that a single huge series cannot hold the write lock for long.
    at_once = min(MAX_PACKED_POINTS, PACK_BUDGET)
    found = driver_sql.rows(conn, whole, (run_id, at_once + 1))
    if len(found) <= at_once:
        series = [(key, [p[1:] for p in rows]) for key, rows in groupby(found, itemgetter(0))]
        if len(found) + KEY_COST * len(series) <= PACK_BUDGET:  # a pack row costs as a key
            insert_packs(conn, [_row(run_id, key, points) for key, points in series])
            return
    packs, budget = [], PACK_BUDGET
    for (key,) in driver_sql.rows(conn, keys, (run_id, PACK_BUDGET // KEY_COST + 1)):
        if budget <= 0:
            break  # the rest of a very large run is read from its rows
        found = driver_sql.rows(conn, points, (run_id, key, MAX_PACKED_POINTS + 1))
        budget -= len(found) + KEY_COST
        if 0 < len(found) <= MAX_PACKED_POINTS:
            packs.append(_row(run_id, key, found))
    insert_packs(conn, packs)


def pack_points(
    dialect: Dialect, points: Iterable[tuple[str, str, int, int, Any]]
) -> list[tuple[Any, ...]]:
    """The packs of ``metrics`` rows (run_id, key, step, timestamp, value) of any runs, as
    the rows read back: ties on (step, timestamp) in the index's order (by value, NULL first
    on SQLite, last on PostgreSQL), and -0.0 as 0.0 on SQLite (it stores an integral REAL as
    an integer)."""
    sqlite = dialect.name == "sqlite"
    series: dict[tuple[str, str], list[tuple[int, int, Any]]] = {}
    for run_id, key, step, stamp, value in points:
        if sqlite and value is not None:
            value += 0.0  # -0.0 + 0.0 is 0.0; every other value stays as it is
        series.setdefault((run_id, key), []).append((step, stamp, value))

    def order(p: tuple[int, int, Any]) -> tuple[Any, ...]:
        return (p[0], p[1], (p[2] is None) != sqlite, 0.0 if p[2] is None else p[2])

    return [
        _row(run_id, key, sorted(found, key=order))
        for (run_id, key), found in series.items()
        if len(found) <= MAX_PACKED_POINTS
    ]


def insert_packs(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        conn.exec_driver_sql(driver_sql.insert(conn.dialect, metric_packs, _COLUMNS), rows)


def drop_packs(conn: Connection, run_id: str) -> None:
    """The run is RUNNING again: its series will grow, so they are read from rows."""
    conn.execute(delete(metric_packs).where(metric_packs.c.run_id == run_id))


@functools.lru_cache(maxsize=4)
def packed_history_sql(dialect: Dialect) -> str:
    """One key's pack of the workspace's run (no row: not packed, or no such run)."""
    m, q = driver_sql.marker(dialect), dialect.identifier_preparer.quote
    return (
        f"SELECT k.step_bytes, k.time_bytes, k.value_bytes FROM runs AS r "
        f"JOIN metric_packs AS k ON k.run_id = r.id "
        f"WHERE r.id = {m} AND r.workspace_id = {m} AND k.{q('key')} = {m}"
    )


def unpack(key: str, steps: bytes, stamps: bytes, values: bytes) -> list[Metric]:
    """The points of a packed row, in (step, timestamp) order."""
    s, t, v = array("q"), array("q"), array("d")
    s.frombytes(steps)
    t.frombytes(stamps)
    v.frombytes(values)
    if _SWAP:
        s.byteswap()
        t.byteswap()
        v.byteswap()
    return list(map(Metric, repeat(key, len(s)), v, s, t))


@functools.lru_cache(maxsize=4)
def _pack_sql(dialect: Dialect) -> tuple[str, str, str]:
    """A run's keys, one key's points, and all the run's points by key, each through the
    (run_id, key, step, timestamp, value) index, in its order: ties on (step, timestamp) by
    value, NULL first on SQLite and last on PostgreSQL, as ``pack_points`` orders them."""
    m, q = driver_sql.marker(dialect), dialect.identifier_preparer.quote
    keys = f"SELECT {q('key')} FROM latest_metrics WHERE run_id = {m} LIMIT {m}"
    points = (
        f"SELECT step, {q('timestamp')}, value FROM metrics "
        f"WHERE run_id = {m} AND {q('key')} = {m} ORDER BY step, {q('timestamp')}, value "
        f"LIMIT {m}"
    )
    whole = (
        f"SELECT {q('key')}, step, {q('timestamp')}, value FROM metrics "
        f"WHERE run_id = {m} ORDER BY {q('key')}, step, {q('timestamp')}, value LIMIT {m}"
    )
    return keys, points, whole


def _row(run_id: str, key: str, points: Sequence[tuple[int, int, Any]]) -> tuple[Any, ...]:
    """A pack of one series' (step, timestamp, value) points, in that order."""
    steps, stamps, values = zip(*points, strict=True)
    if None in values:  # NULL is how the rows store NaN
        values = tuple(math.nan if value is None else value for value in values)
    columns = array("q", steps), array("q", stamps), array("d", values)
    if _SWAP:
        for column in columns:
            column.byteswap()
    return (run_id, key, len(points), *(column.tobytes() for column in columns))


__all__ = [
    "KEY_COST",
    "MAX_PACKED_POINTS",
    "PACK_BUDGET",
    "drop_packs",
    "insert_packs",
    "pack_points",
    "pack_run",
    "packed_history_sql",
    "unpack",
]
