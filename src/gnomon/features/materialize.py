"""Materialisation: the latest row per entity of a view, read from its source by DuckDB, into
an online store, then the watermark that lets the next incremental run read only new rows.

DuckDB keeps one group per entity (``arg_max`` over (event, created) time: a hash aggregate,
no sort of the whole source) and spills to a temporary folder past its memory; the result
streams out in Arrow batches of ``CHUNK_ROWS`` entities, each written to the store before the
next is read, so Python holds one batch at a time.

The watermark is the newest time read: the created time where the view has one (a late row
arrives with an old event time but a new created time), else the event time. An incremental
run reads rows at or after it; the rows at the watermark itself are read again, harmlessly
(the store keeps the newest per entity), so a row written in the same millisecond as the last
run's newest is not missed. A view without created times cannot see late rows incrementally:
a full run can.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import orjson

from gnomon.errors import InvalidInput
from gnomon.features.definitions import FeatureView
from gnomon.features.online import OnlineStore, OnlineView, Packed
from gnomon.features.sources import DatasetFiles, quoted, register_source
from gnomon.features.specs import Catalog
from gnomon.progress import progress_bar

CHUNK_ROWS = 50_000  # entities per Arrow batch written to the store
OLDEST_US = -(1 << 62)  # sorts a row without a created time before any with one
# the source's times in microseconds, beside its columns (named so no column can clash)
EVENT, CREATED = '"__gnomon_event_us"', '"__gnomon_created_us"'
INTEGERS = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Moment = datetime | int  # a datetime (naive is UTC) or milliseconds since the epoch


@dataclass(frozen=True, slots=True)
class Materialized:
    """What one materialisation did."""

    view: str
    rows_read: int
    entities_written: int
    watermark_ms: int | None  # after the run
    seconds: float


def materialize(
    catalog: Catalog,
    view: FeatureView | str,
    store: OnlineStore,
    workspace: str,
    *,
    start: Moment | None = None,
    end: Moment | None = None,
    incremental: bool = False,
    dataset_files: DatasetFiles | None = None,
    pushed: Path | None = None,
    progress: bool = True,
) -> Materialized:
    """Writes the latest row per entity with an event time in [``start``, ``end``] (each
    open when ``None``) into ``store``; ``incremental`` reads only rows at or after the
    stored watermark.

    Raises:
        NotFound: an unknown view or entity, or a missing source.
        InvalidInput: the source lacks a declared column, or a time column is not a time.
    """
    started = time.perf_counter()
    view = catalog.view(view) if isinstance(view, str) else view
    join_keys = catalog.join_keys(view)
    online = OnlineView.of(view, join_keys)
    since = store.watermark(workspace, online) if incremental else None
    rows_read, entities, newest = 0, 0, None
    with tempfile.TemporaryDirectory(prefix="gnomon-materialize-") as spill:
        con = duckdb.connect(config={"temp_directory": spill, "preserve_insertion_order": False})
        try:
            source = register_source(
                con, view, join_keys, dataset_files=dataset_files, pushed=pushed
            )
            query = _latest_query(con, view, join_keys, source, start, end, since)
            bar = progress_bar(f"materialising {view.name}", unit="entities")
            with bar if progress else nullcontext(_ignore) as advance:
                for rows, read, mark in _batches(con, query, view.name, len(join_keys)):
                    rows_read += read
                    newest = mark if newest is None else max(newest, mark)
                    entities += store.write(workspace, online, rows)
                    advance(entities, None)
        finally:
            con.close()
    if newest is not None:
        store.set_watermark(workspace, online, newest)
    watermark = newest if newest is not None else since
    seconds = time.perf_counter() - started
    return Materialized(view.name, rows_read, entities, watermark, seconds)


def _ignore(done: int, total: int | None) -> None:
    pass


def as_ms(moment: Moment) -> int:
    """Milliseconds since the epoch, floored (the millisecond the moment falls in)."""
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return (aware - EPOCH) // timedelta(milliseconds=1)
    if isinstance(moment, int) and not isinstance(moment, bool):
        return moment
    raise InvalidInput(f"a time must be a datetime or milliseconds; got {moment!r}")


def _micros(column: str, types: dict[str, str]) -> str:
    """Microseconds since the epoch of a time column: a naive timestamp or a date is UTC,
    text is ISO 8601 (an offset is honoured)."""
    kind, name = types[column], quoted(column)
    if kind == "TIMESTAMP WITH TIME ZONE":
        return f"epoch_us({name})"
    if kind.startswith("TIMESTAMP") or kind == "DATE":
        return f"epoch_us(CAST({name} AS TIMESTAMP))"
    return f"epoch_us(CAST({name} AS TIMESTAMPTZ))"


def _ms(micros: str) -> str:
    """Floored as ``as_ms`` does (DuckDB's epoch_ms rounds, its // truncates); exact while
    the microseconds are below 2**53 (the year 2255)."""
    return f"CAST(floor({micros} / 1000) AS BIGINT)"


def _latest_query(
    con: duckdb.DuckDBPyConnection,
    view: FeatureView,
    join_keys: list[str],
    source: str,
    start: Moment | None,
    end: Moment | None,
    since: int | None,
) -> str:
    """Per entity: its join keys, the latest row's event and created ms and its packed value
    (``online.pack``'s JSON array, written by DuckDB), the rows read and the newest
    watermark time among them (ms). The latest is chosen on the times' full precision; the
    store keeps milliseconds."""
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE {source}").fetchall()}
    event_us = _micros(view.timestamp_field, types)
    created = view.created_timestamp_field
    created_us = _micros(created, types) if created else "CAST(NULL AS BIGINT)"
    keys = ", ".join(quoted(k) for k in join_keys)
    not_null = " AND ".join(f"{quoted(c)} IS NOT NULL" for c in [*join_keys, view.timestamp_field])
    timed = f"SELECT *, {event_us} AS {EVENT}, {created_us} AS {CREATED} FROM {source}"
    where = [not_null]
    if start is not None:
        where.append(f"{EVENT} >= {as_ms(start) * 1000}")
    if end is not None:
        where.append(f"{EVENT} < {(as_ms(end) + 1) * 1000}")
    if since is not None:
        where.append(f"coalesce({CREATED}, {EVENT}) >= {int(since) * 1000}")
    names = view.feature_names
    features = ", ".join(f"_{i} := {quoted(name)}" for i, name in enumerate(names))
    latest = f"struct_pack(_e := {EVENT}, _c := {CREATED}, {features})"
    order = f"struct_pack(e := {EVENT}, c := coalesce({CREATED}, {OLDEST_US}))"
    event_ms, created_ms = _ms("v._e"), _ms("v._c")
    values = ", ".join(_json_value(f"v._{i}", types[name]) for i, name in enumerate(names))
    packed = f"encode(CAST(json_array({event_ms}, {created_ms}, {values}) AS VARCHAR))"
    picked = ", ".join(_key(k, types[k]) for k in join_keys)
    return (
        f"SELECT {picked}, {event_ms}, {created_ms}, {packed}, n, {_ms('w')} FROM ("
        f"SELECT {keys}, arg_max({latest}, {order}) AS v, count(*) AS n, "
        f"max(coalesce({CREATED}, {EVENT})) AS w "
        f"FROM ({timed}) WHERE {' AND '.join(where)} GROUP BY {keys}) "
        f"ORDER BY {_key_order(join_keys, types)}"
    )


def _json_value(expression: str, kind: str) -> str:
    """A feature as JSON takes it: NaN and infinities have no JSON form (null, as orjson)."""
    if kind in ("DOUBLE", "FLOAT"):
        return f"CASE WHEN isfinite({expression}) THEN {expression} END"
    return expression


def _key(column: str, kind: str) -> str:
    """Join key values as ``encode_key`` takes them: integers and text as they are, any
    other type as its text."""
    if kind in INTEGERS or kind == "VARCHAR":
        return quoted(column)
    return f"CAST({quoted(column)} AS VARCHAR)"


def _key_order(join_keys: list[str], types: dict[str, str]) -> str:
    """About the order of the stored keys (``encode_key``'s JSON): written in it, a SQLite
    store appends to its B-tree instead of splitting pages all over it (twice as fast).
    Only speed depends on it, so a string's escapes are left out."""
    parts = [
        f"CAST({quoted(k)} AS VARCHAR)"
        if types[k] in INTEGERS
        else f"'\"' || CAST({quoted(k)} AS VARCHAR) || '\"'"
        for k in join_keys
    ]
    joined = " || ',' || ".join(parts)
    return f"'[' || {joined} || ']'"


def _batches(
    con: duckdb.DuckDBPyConnection, query: str, view: str, keys: int
) -> Iterator[tuple[list[Packed], int, int]]:
    """The query's result in Arrow batches: per batch the rows to write, the source rows
    behind them and their newest watermark time."""
    dumps = orjson.dumps  # copied by "%b": thousands of orjson's own results kept are slow
    try:
        relation = con.sql(query)
        # to_arrow_reader is DuckDB 1.4's name; earlier ones have fetch_arrow_reader only.
        open_reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
        for batch in open_reader(CHUNK_ROWS):
            if batch.num_rows == 0:
                continue
            *fields, counts, marks = (column.to_pylist() for column in batch.columns)
            entities = [b"%b" % dumps(key) for key in zip(*fields[:keys], strict=True)]
            rows = list(zip(entities, *fields[keys:], strict=True))
            yield rows, sum(counts), max(marks)
    except duckdb.ConversionException as exc:
        reason = str(exc).splitlines()[0]
        raise InvalidInput(
            f"feature view {view!r}: a time column is not a time: {reason}"
        ) from None
