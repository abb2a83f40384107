"""A deployment's recent traffic from its stored prediction records: only the hour partitions
of the chosen window are read, only the columns used, aggregated in DuckDB per time bucket and
arm; plus the newest records and the newest that broke the input contract.

Records are the rows model servers answered (a request of several rows leaves one record per
row, its latency shared between them). A request the primary failed is answered with an error
and leaves no record: what is counted as an error here is a record without an answer (a
shadow or an arm that failed or refused), and validation failures are records carrying
contract violations (predicted anyway under the ``warn`` or ``clip`` policy).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from gnomon.artifacts.store import ArtifactStore
from gnomon.monitoring.records import HOUR_MS, partition_files
from gnomon.predictions.records import RECORD_COLUMNS, RECORDS
from gnomon.ui.time_charts import time_chart

if TYPE_CHECKING:
    import duckdb

WINDOW_HOURS = (1, 6, 24, 168)  # what the page offers; any 1-168 is accepted
BUCKET_SECONDS = (60, 300, 900, 3600, 21_600)
MAX_BUCKETS = 200
RECENT_SHOWN = 50
FAILURES_SHOWN = 20
TEXT_SHOWN = 300  # characters of a record's inputs or outputs shown
_COLUMNS = [
    "request_id",
    "time",
    "role",
    "model_version",
    "latency_ms",
    "inputs",
    "outputs",
    "violations",
]
_FAILED = "(outputs IS NULL OR outputs = 'null')"
_ROLE_ORDER = {"primary": 0, "canary": 1, "ab": 1, "shadow": 2}  # as the routes are listed


@dataclass(frozen=True, slots=True)
class ArmTraffic:
    """One arm's figures over the window (an arm: a role and the version that answered)."""

    label: str
    predictions: int
    per_minute: float
    errors: int
    failures: int
    mean_ms: float | None
    p50_ms: float | None
    p95_ms: float | None


@dataclass(frozen=True, slots=True)
class Traffic:
    start_ms: int
    end_ms: int
    bucket_s: int
    arms: list[ArmTraffic]
    charts: list[dict[str, Any]]
    recent: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def predictions(self) -> int:
        return sum(a.predictions for a in self.arms)


def bucket_seconds(hours: int) -> int:
    """The narrowest bucket that keeps a window of ``hours`` within ``MAX_BUCKETS``."""
    return next(s for s in BUCKET_SECONDS if hours * 3600 / s <= MAX_BUCKETS)


def read_traffic(store: ArtifactStore, deployment: str, hours: int, now_ms: int) -> Traffic:
    """The records of ``deployment`` answered in the ``hours`` before ``now_ms``."""
    width_s = bucket_seconds(hours)
    width = width_s * 1000
    end = now_ms - now_ms % width + width  # the bucket holding now is the last one
    start = end - hours * HOUR_MS
    keys = partition_files(store, RECORDS, deployment, start, end)
    span = f"epoch_ms(time) >= {start} AND epoch_ms(time) < {end}"
    arm = "role, model_version"
    with _connection() as con:
        _records_view(con, store, keys)
        totals = con.sql(
            f"SELECT {arm}, count(*), count(*) FILTER (WHERE {_FAILED}), "
            "count(*) FILTER (WHERE violations IS NOT NULL), avg(latency_ms), "
            "quantile_cont(latency_ms, 0.5), quantile_cont(latency_ms, 0.95) "
            f"FROM records WHERE {span} GROUP BY {arm}"
        ).fetchall()
        buckets = con.sql(
            f"SELECT epoch_ms(time) // {width} * {width} AS bucket, {arm}, count(*), "
            f"count(*) FILTER (WHERE {_FAILED}), count(*) FILTER (WHERE violations IS NOT NULL), "
            "quantile_cont(latency_ms, 0.5), quantile_cont(latency_ms, 0.95) "
            f"FROM records WHERE {span} GROUP BY ALL ORDER BY bucket"
        ).fetchall()
        recent = _newest(con, span, "true", RECENT_SHOWN)
        failures = _newest(con, span, "violations IS NOT NULL", FAILURES_SHOWN)
    minutes = hours * 60
    ordered = sorted(
        totals, key=lambda row: (_ROLE_ORDER.get(row[0], 9), row[0] or "", row[1] or 0)
    )
    arms = [
        ArmTraffic(_label(role, version), n, n / minutes, errors, failed, mean, p50, p95)
        for role, version, n, errors, failed, mean, p50, p95 in ordered
    ]
    times = list(range(start, end, width))
    charts = _charts(times, buckets, width_s)
    return Traffic(start, end, width_s, arms, charts, recent, failures)


def _charts(times: Sequence[int], buckets: Sequence[tuple[Any, ...]], width_s: int) -> list[Any]:
    at = {t: i for i, t in enumerate(times)}
    rate: dict[str, list[float | None]] = {}
    latency: dict[str, list[float | None]] = {}
    errors: dict[str, list[float | None]] = {}
    for bucket, role, version, n, failed, violated, p50, p95 in buckets:
        arm, i = _label(role, version), at.get(bucket)
        if i is None:
            continue
        rate.setdefault(arm, [0.0] * len(times))[i] = n * 60 / width_s
        _slot(latency, f"{arm} p50", len(times))[i] = p50
        _slot(latency, f"{arm} p95", len(times))[i] = p95
        _slot(errors, f"{arm} errors", len(times))[i] = 100 * failed / n
        _slot(errors, f"{arm} validation failures", len(times))[i] = 100 * violated / n
    return [
        time_chart("rate", _lines(times, rate), title="Predictions per minute"),
        time_chart("latency", _lines(times, latency), title="Latency (ms)"),
        time_chart("errors", _lines(times, errors), title="Errors and validation failures (%)"),
    ]


def _slot(lines: dict[str, list[float | None]], label: str, size: int) -> list[float | None]:
    return lines.setdefault(label, [None] * size)


def _lines(
    times: Sequence[int], lines: dict[str, list[float | None]]
) -> dict[str, tuple[Sequence[int], Sequence[float | None]]]:
    return {label: (times, values) for label, values in sorted(lines.items())}


def _label(role: str | None, version: int | None) -> str:
    return f"{role or 'primary'} v{version}" if version is not None else f"{role or 'primary'}"


def _newest(con: duckdb.DuckDBPyConnection, span: str, where: str, limit: int) -> list[Any]:
    rows = con.sql(
        "SELECT request_id, epoch_ms(time), role, model_version, latency_ms, "
        f"left(inputs, {TEXT_SHOWN + 1}), left(outputs, {TEXT_SHOWN + 1}), violations "
        f"FROM records WHERE {span} AND {where} ORDER BY time DESC, request_id LIMIT {limit}"
    ).fetchall()
    return [
        {
            "request_id": request_id,
            "time_ms": time_ms,
            "arm": _label(role, version),
            "latency_ms": latency,
            "inputs": _cut(inputs),
            "outputs": _cut(outputs),
            "violations": _violations(violations),
        }
        for request_id, time_ms, role, version, latency, inputs, outputs, violations in rows
    ]


def _cut(text: str | None) -> str:
    if text is None:
        return ""
    return text if len(text) <= TEXT_SHOWN else text[:TEXT_SHOWN] + "…"


def _violations(text: str | None) -> list[str]:
    """``column: problem (expected …)`` per violation, the first 5 (stored JSON: anything
    of another shape is shown as it is)."""
    if text is None:
        return []
    try:
        found = orjson.loads(text)
    except orjson.JSONDecodeError:
        return [_cut(text)]
    if not isinstance(found, list):
        return [_cut(text)]
    said = []
    for item in found[:5]:
        if isinstance(item, dict):
            expected = f" (expected {item.get('expected')})" if item.get("expected") else ""
            said.append(_cut(f"{item.get('column')}: {item.get('problem')}{expected}"))
        else:
            said.append(_cut(str(item)))
    if len(found) > 5:
        said.append(f"and {len(found) - 5} more")
    return said


def _records_view(con: duckdb.DuckDBPyConnection, store: ArtifactStore, keys: list[str]) -> None:
    """``records``: the files' columns this page uses. Local files are read by DuckDB itself
    (streamed, in parallel); another store's through Arrow."""
    from gnomon.artifacts.local import LocalArtifactStore

    if keys and isinstance(store, LocalArtifactStore):
        paths = ", ".join("'" + store.uri(key).replace("'", "''") + "'" for key in keys)
        selected = ", ".join(f'"{c}"' for c in _COLUMNS)
        con.execute(
            f"CREATE VIEW records AS SELECT {selected} "
            f"FROM read_parquet([{paths}], union_by_name = true)"
        )
        return
    con.register("records", _arrow_records(store, keys))


def _arrow_records(store: ArtifactStore, keys: list[str]) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gnomon.predictions.writer import schema

    wanted = schema({name: RECORD_COLUMNS[name] for name in _COLUMNS})
    tables = [
        pq.read_table(io.BytesIO(store.get_bytes(key)), columns=_COLUMNS).cast(wanted)
        for key in keys
    ]
    return pa.concat_tables(tables) if tables else wanted.empty_table()


class _connection:
    """An in-memory DuckDB connection, closed on exit, with no progress bar on stdout."""

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        import duckdb

        self.con = duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")
        return self.con

    def __exit__(self, *exc: object) -> None:
        self.con.close()
