"""Runs with their params, tags and latest metrics, read in one statement per page.

Two ways, by database. On PostgreSQL a UNION ALL of the three tables returns a row per
value. On SQLite, handing the rows to Python costs far more than finding them (100 runs
with 8 tags each: 0.26 ms in SQLite, 1.2 ms in all), so the run columns, params and tags
of a page come as one JSON text, built by SQLite and parsed by ``orjson.loads``. Metric
values stay plain rows: SQLite prints a REAL in JSON with 15 significant digits, which
does not give every double back.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import sqlite3
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Dialect

from gnomon.store import driver_sql
from gnomon.tracking.entities import Lifecycle, Run, RunStatus
from gnomon.tracking.tables import runs

IDS_PER_READ = 512  # a page of up to 50,000 runs is read in chunks (bind-parameter limits)
# JSON functions are built into SQLite from 3.38; older libraries take the UNION ALL way.
SQLITE_JSON = sqlite3.sqlite_version_info >= (3, 38, 0)

# A run's row as the driver returns it: the table's columns in order.
RunRow = namedtuple("RunRow", [column.name for column in runs.c])  # type: ignore[misc]
# Run's constructor arguments after its id, up to its data (params, metrics, tags).
_RUN_FIELDS = [f.name for f in dataclasses.fields(Run)][1:-3]
_STATUSES = {status.value: status for status in RunStatus}  # faster than RunStatus(value)
_LIFECYCLES = {lifecycle.value: lifecycle for lifecycle in Lifecycle}


def load_runs(conn: Connection, rows: Sequence[Any]) -> list[Run]:
    """``rows`` of the runs table (anything with its columns as attributes) as runs with
    their params, tags and latest metrics."""
    if not rows:
        return []
    ids = [row.id for row in rows]
    data: dict[str, tuple[dict[str, Any], ...]] = {i: ({}, {}, {}) for i in ids}
    nan = math.nan
    for chunk in _chunks(ids):
        # The exact count of markers: padding the list to fewer shapes cost SQLite more
        # than building the text does.
        sql = _union_sql(conn.dialect, len(chunk))
        for part, run_id, key, text, number in driver_sql.rows(conn, sql, tuple(chunk) * 3):
            if part == 2:  # a latest metric; NaN is stored as NULL
                data[run_id][2][key] = nan if number is None else number
            else:
                data[run_id][part][key] = text
    return [to_run(row, *data[row.id]) for row in rows]


def load_page(conn: Connection, ids: Sequence[str]) -> list[Run]:
    """SQLite with JSON (``SQLITE_JSON``): the runs ``ids`` name, in that order, with their
    params, tags and latest metrics; a run deleted since its id was read is left out."""
    columns: dict[str, list[Any]] = {}
    latest: dict[str, dict[str, float]] = {}
    nan = math.nan
    for chunk in _chunks(ids):
        sql = _json_sql(len(chunk))
        for run_id, key, number in driver_sql.rows(conn, sql, tuple(chunk) * 2):
            if key is None:  # the one row of run columns, params and tags as JSON
                columns.update(orjson.loads(run_id))
            else:
                latest.setdefault(run_id, {})[key] = nan if number is None else number
    found = []
    statuses, lifecycles = _STATUSES, _LIFECYCLES
    for run_id in ids:
        values = columns.get(run_id)
        if values is None:
            continue
        # In the order _json_sql writes them: Run's own, straight into its constructor.
        experiment, name, status, start, end, user, uri, text, parent, life, p, t = values
        found.append(
            Run(
                run_id, experiment, name, statuses[status], start, end, user, uri, text,
                parent, lifecycles[life], p, latest.get(run_id, {}), t,
            )
        )  # fmt: skip
    return found


def to_run(
    row: Any, run_params: dict[str, Any], run_tags: dict[str, Any], run_metrics: dict[str, Any]
) -> Run:
    return Run(
        id=row.id,
        experiment_id=row.experiment_id,
        name=row.name,
        status=_STATUSES[row.status],
        start_time=row.start_time,
        end_time=row.end_time,
        user=row.user,
        artifact_uri=row.artifact_uri,
        description=row.description,
        parent_run_id=row.parent_run_id,
        lifecycle=_LIFECYCLES[row.lifecycle],
        params=run_params,
        metrics=run_metrics,
        tags=run_tags,
    )


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[start : start + IDS_PER_READ] for start in range(0, len(ids), IDS_PER_READ)]


@functools.lru_cache(maxsize=IDS_PER_READ)
def _union_sql(dialect: Dialect, width: int) -> str:
    """Params (0), tags (1) and latest metrics (2) of ``width`` runs, as one UNION ALL:
    (part, run_id, key, text value, number value)."""
    m, q = driver_sql.marker(dialect), dialect.identifier_preparer.quote
    ids = ", ".join([m] * width)
    key = q("key")
    # PostgreSQL types a UNION column from its branches in turn: the NULLs are typed.
    number, text = "CAST(NULL AS DOUBLE PRECISION)", "CAST(NULL AS VARCHAR)"
    return (
        f"SELECT 0, run_id, {key}, value, {number} FROM params WHERE run_id IN ({ids}) "
        f"UNION ALL SELECT 1, run_id, {key}, value, {number} FROM tags "
        f"WHERE run_id IN ({ids}) "
        f"UNION ALL SELECT 2, run_id, {key}, {text}, value FROM latest_metrics "
        f"WHERE run_id IN ({ids})"
    )


@functools.lru_cache(maxsize=IDS_PER_READ)
def _json_sql(width: int) -> str:
    """SQLite: one row (JSON, NULL, NULL) mapping each of ``width`` run ids to [its other
    columns in table order..., params, tags], then a row (run_id, key, value) per latest
    metric."""
    ids = ", ".join(["?"] * width)
    columns = ", ".join(f'r."{name}"' for name in _RUN_FIELDS)
    per_run = (
        f"json_array({columns}, "
        '(SELECT json_group_object(p."key", p.value) FROM params AS p WHERE p.run_id = r.id), '
        '(SELECT json_group_object(t."key", t.value) FROM tags AS t WHERE t.run_id = r.id))'
    )
    return (
        f"SELECT json_group_object(r.id, {per_run}), NULL, NULL FROM runs AS r "
        f"WHERE r.id IN ({ids}) "
        f'UNION ALL SELECT run_id, "key", value FROM latest_metrics WHERE run_id IN ({ids})'
    )
