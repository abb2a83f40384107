"""A window of a deployment's prediction records, read columnar and partition-pruned.

Only the hour partitions that overlap the window are listed (``deployment=…/date=…/hour=…``),
only the columns a monitor uses are read from each Parquet file, and each record's JSON
``inputs`` is parsed once, in DuckDB, into one typed column per contract column, with a flag
per column for values of the wrong type. Outcomes are read from the hours between the
window's start and when it is evaluated, and the latest per request id joins its record.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gnomon.artifacts.store import ArtifactStore
from gnomon.modelfolder.contract import ColumnSpec
from gnomon.predictions.records import OUTCOMES, RECORDS

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

HOUR_MS = 3_600_000
NUMERIC = ("int64", "float64")
_NUMBER_TYPES = "('DOUBLE','BIGINT','UBIGINT')"
_RECORD_COLUMNS = ["request_id", "time", "role", "model_version", "inputs", "outputs", "violations"]


def type_error_column(index: int) -> str:
    """The flag column of the ``index``-th watched column's values of the wrong type (named
    by position: any name could be a contract column's own)."""
    return f"__type_error_{index}__"


@dataclass(frozen=True, slots=True)
class Watched:
    """A column a monitor reads from the records' inputs: numeric or categorical."""

    name: str
    numeric: bool

    @classmethod
    def of(cls, spec: ColumnSpec) -> Watched:
        return cls(spec.name, spec.dtype in NUMERIC)


def hours(start_ms: int, end_ms: int) -> Iterator[tuple[str, str]]:
    """The (date, hour) partitions a writer may have put records of [start, end) in."""
    hour = start_ms // HOUR_MS
    while hour * HOUR_MS < end_ms:
        moment = datetime.fromtimestamp(hour * 3600, UTC)
        yield moment.strftime("%Y-%m-%d"), moment.strftime("%H")
        hour += 1


def partition_files(
    store: ArtifactStore, prefix: str, deployment: str, start_ms: int, end_ms: int
) -> list[str]:
    """The Parquet files of the hour partitions overlapping [start_ms, end_ms)."""
    base = f"{prefix}/deployment={quote(deployment, safe='')}"
    files: list[str] = []
    for date, hour in hours(start_ms, end_ms):
        found = store.list(f"{base}/date={date}/hour={hour}")
        files.extend(sorted(i.path for i in found if not i.is_dir and i.path.endswith(".parquet")))
    return files


def first_record_ms(store: ArtifactStore, deployment: str) -> int | None:
    """The start of the first hour holding records of ``deployment`` (None: it has none)."""
    base = f"{RECORDS}/deployment={quote(deployment, safe='')}"
    for date in sorted(_named(store, base, "date=")):
        for hour in sorted(_named(store, f"{base}/date={date}", "hour=")):
            if any(
                i.path.endswith(".parquet") for i in store.list(f"{base}/date={date}/hour={hour}")
            ):
                moment = datetime.strptime(f"{date} {hour}", "%Y-%m-%d %H").replace(tzinfo=UTC)
                return int(moment.timestamp()) * 1000
    return None


def _named(store: ArtifactStore, prefix: str, key: str) -> list[str]:
    """The values of the ``key…`` folders right under ``prefix`` (well-formed ones only)."""
    found = []
    for info in store.list(prefix):
        last = info.path.rstrip("/").rsplit("/", 1)[-1]
        if info.is_dir and last.startswith(key):
            value = last.removeprefix(key)
            if value.replace("-", "").isdigit() and value.isascii():
                found.append(value)
    return found


def read_records(
    store: ArtifactStore,
    deployment: str,
    start_ms: int,
    end_ms: int,
    columns: Sequence[Watched],
) -> pa.Table:
    """The records of ``deployment`` answered in [start_ms, end_ms), oldest first.

    Columns: ``request_id``, ``time_ms``, ``role``, ``model_version``, ``prediction`` (a
    number) and ``prediction_label`` (text) from the outputs, ``rejected`` (the record
    carries contract violations), then each watched column typed (DOUBLE or VARCHAR) as
    :func:`input_column`, with its :func:`type_error_column` flag.
    """
    raw = _read_parquet(
        store, partition_files(store, RECORDS, deployment, start_ms, end_ms), _RECORD_COLUMNS
    )
    with _duckdb() as con:
        con.register("raw", raw)
        return con.sql(_records_sql(columns, int(start_ms), int(end_ms))).to_arrow_table()


def read_outcomes(store: ArtifactStore, deployment: str, start_ms: int, end_ms: int) -> pa.Table:
    """The latest outcome per request id, of those received in [start_ms, end_ms):
    ``request_id``, ``outcome`` (a number) and ``outcome_label`` (text)."""
    files = partition_files(store, OUTCOMES, deployment, start_ms, end_ms)
    raw = _read_parquet(store, files, ["request_id", "time", "value"])
    with _duckdb() as con:
        con.register("raw", raw)
        return con.sql(
            f"""
            SELECT request_id, {_number("value")} AS outcome, {_label("value")} AS outcome_label
            FROM raw
            WHERE epoch_ms(time) >= {int(start_ms)} AND epoch_ms(time) < {int(end_ms)}
            QUALIFY row_number() OVER (PARTITION BY request_id ORDER BY time DESC) = 1
            """
        ).to_arrow_table()


def _records_sql(columns: Sequence[Watched], start_ms: int, end_ms: int) -> str:
    selected = ["request_id", "epoch_ms(time) AS time_ms", "role", "model_version"]
    selected += [f"{_number('outputs')} AS prediction", f"{_label('outputs')} AS prediction_label"]
    selected.append("violations IS NOT NULL AS rejected")
    for index, column in enumerate(columns):
        value = f"j[{index + 1}]"
        kind = f"json_type({value})"
        if column.numeric:
            typed = f"CASE WHEN {kind} IN {_NUMBER_TYPES} THEN CAST({value} AS DOUBLE) END"
            wrong = f"{value} IS NOT NULL AND {kind} NOT IN {_NUMBER_TYPES} AND {kind} <> 'NULL'"
        else:
            typed = (
                f"CASE WHEN {kind} IN ('VARCHAR','BOOLEAN','BIGINT','UBIGINT','DOUBLE') "
                f"THEN json_extract_string({value}, '$') END"
            )
            wrong = f"{value} IS NOT NULL AND {kind} IN ('OBJECT','ARRAY')"
        selected.append(f"{typed} AS {_quoted(input_column(column.name))}")
        selected.append(f"coalesce({wrong}, false) AS {type_error_column(index)}")
    # One parse per record for every column: a list of JSON pointers (RFC 6901), which match
    # keys exactly, whatever they hold; struct field names would clash on case ("x", "X").
    pointers = ", ".join(_literal("/" + _pointer(c.name)) for c in columns)
    parsed = f"json_extract(inputs, [{pointers}]) AS j" if columns else "NULL AS j"
    return f"""
        SELECT {", ".join(selected)}
        FROM (
            SELECT *, {parsed} FROM raw
            WHERE epoch_ms(time) >= {start_ms} AND epoch_ms(time) < {end_ms}
        )
        ORDER BY time_ms, request_id
    """


def input_column(name: str) -> str:
    """The records table's column of the input ``name``: prefixed, so an input called
    ``role`` or ``prediction`` never clashes with the record's own columns."""
    return f"in.{name}"


def _pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _number(column: str) -> str:
    return f"CASE WHEN json_type({column}) IN {_NUMBER_TYPES} THEN CAST({column} AS DOUBLE) END"


def _label(column: str) -> str:
    kinds = "('VARCHAR','BOOLEAN','BIGINT','UBIGINT','DOUBLE')"
    return f"CASE WHEN json_type({column}) IN {kinds} THEN json_extract_string({column}, '$') END"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read_parquet(store: ArtifactStore, keys: Sequence[str], columns: list[str]) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gnomon.predictions.records import OUTCOME_COLUMNS, RECORD_COLUMNS
    from gnomon.predictions.writer import schema

    wanted = schema(RECORD_COLUMNS if "inputs" in columns else OUTCOME_COLUMNS)
    wanted = pa.schema([wanted.field(name) for name in columns])
    tables = [
        pq.read_table(io.BytesIO(store.get_bytes(key)), columns=columns).cast(wanted)
        for key in keys
    ]
    return pa.concat_tables(tables) if tables else wanted.empty_table()


class _duckdb:
    """An in-memory DuckDB connection, closed on exit, with no progress bar on stdout."""

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        import duckdb

        self.con = duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")
        return self.con

    def __exit__(self, *exc: Any) -> None:
        self.con.close()


__all__ = [
    "Watched",
    "hours",
    "partition_files",
    "read_outcomes",
    "read_records",
    "type_error_column",
]
