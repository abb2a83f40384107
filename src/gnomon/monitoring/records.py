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
from gnomon.predictions.columnar import TYPED_PREFIX
from gnomon.predictions.records import OUTCOMES, RECORDS

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

HOUR_MS = 3_600_000
NUMERIC = ("int64", "float64")
_NUMBER_TYPES = "('DOUBLE','BIGINT','UBIGINT')"
_META_COLUMNS = ["request_id", "time", "role", "model_version", "outputs", "violations"]
_RECORD_COLUMNS = [*_META_COLUMNS[:4], "inputs", *_META_COLUMNS[4:]]


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
    *,
    ordered: bool = True,
) -> pa.Table:
    """The records of ``deployment`` answered in [start_ms, end_ms), oldest first (in no
    particular order unless ``ordered``: sorting a window holds all of it at once).

    Columns: ``request_id``, ``time_ms``, ``role``, ``model_version``, ``prediction`` (a
    number) and ``prediction_label`` (text) from the outputs, ``rejected`` (the record
    carries contract violations), then each watched column typed (DOUBLE or VARCHAR) as
    :func:`input_column`, with its :func:`type_error_column` flag.
    """
    keys = partition_files(store, RECORDS, deployment, start_ms, end_ms)
    fetched: dict[str, bytes] = {}  # a remote file's bytes, read once for schema and rows
    typed, plain = _split(store, keys, columns, fetched)
    span = f"epoch_ms(time) >= {int(start_ms)} AND epoch_ms(time) < {int(end_ms)}"
    parts = []
    with in_memory_duckdb() as con:
        if typed:  # files with a typed copy of every watched input: no JSON to parse
            names = [TYPED_PREFIX + c.name for c in columns]
            source_view(con, store, typed, [*_META_COLUMNS, *names], "typed", fetched)
            parts.append(_typed_sql(columns, span))
        if plain or not typed:
            source_view(con, store, plain, _RECORD_COLUMNS, "raw", fetched)
            parts.append(_json_sql(columns, span))
        order = "ORDER BY time_ms, request_id" if ordered else ""
        found = con.sql(f"SELECT * FROM ({' UNION ALL '.join(parts)}) {order}").to_arrow_table()
    # Named by position in SQL (DuckDB's names ignore case: "x" and "X" would clash), and by
    # name here, where Arrow keeps them apart.
    names = {_positional(i).strip('"'): input_column(c.name) for i, c in enumerate(columns)}
    return found.rename_columns([names.get(n, n) for n in found.column_names])


def read_outcomes(store: ArtifactStore, deployment: str, start_ms: int, end_ms: int) -> pa.Table:
    """The latest outcome per request id, of those received in [start_ms, end_ms):
    ``request_id``, ``outcome`` (a number) and ``outcome_label`` (text)."""
    keys = partition_files(store, OUTCOMES, deployment, start_ms, end_ms)
    with in_memory_duckdb() as con:
        source_view(con, store, keys, ["request_id", "time", "value"])
        return con.sql(
            f"""
            SELECT request_id, {number_sql("value")} AS outcome,
                   {label_sql("value")} AS outcome_label
            FROM raw
            WHERE epoch_ms(time) >= {int(start_ms)} AND epoch_ms(time) < {int(end_ms)}
            QUALIFY row_number() OVER (PARTITION BY request_id ORDER BY time DESC) = 1
            """
        ).to_arrow_table()


def _meta_sql() -> list[str]:
    return [
        "request_id",
        "epoch_ms(time) AS time_ms",
        "role",
        "model_version",
        f"{number_sql('outputs')} AS prediction",
        f"{label_sql('outputs')} AS prediction_label",
        "violations IS NOT NULL AS rejected",
    ]


def _typed_sql(columns: Sequence[Watched], span: str) -> str:
    """The records of files holding a typed copy of each input (``TYPED_PREFIX``): cast,
    never parsed; a value of the wrong type would have kept the copy out of the file."""
    selected = _meta_sql()
    for index, column in enumerate(columns):
        source = _quoted(TYPED_PREFIX + column.name)
        kind = "DOUBLE" if column.numeric else "VARCHAR"
        selected.append(f"CAST({source} AS {kind}) AS {_positional(index)}")
        selected.append(f"false AS {type_error_column(index)}")
    return f"SELECT {', '.join(selected)} FROM typed WHERE {span}"


def _json_sql(columns: Sequence[Watched], span: str) -> str:
    selected = _meta_sql()
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
        selected.append(f"{typed} AS {_positional(index)}")
        selected.append(f"coalesce({wrong}, false) AS {type_error_column(index)}")
    # One parse per record for every column: a list of JSON pointers (RFC 6901), which match
    # keys exactly, whatever they hold; struct field names would clash on case ("x", "X").
    pointers = ", ".join(sql_literal("/" + _pointer(c.name)) for c in columns)
    parsed = f"json_extract(inputs, [{pointers}]) AS j" if columns else "NULL AS j"
    return f"SELECT {', '.join(selected)} FROM (SELECT *, {parsed} FROM raw WHERE {span})"


def _split(
    store: ArtifactStore,
    keys: Sequence[str],
    columns: Sequence[Watched],
    fetched: dict[str, bytes],
) -> tuple[list[str], list[str]]:
    """The files holding a usable typed copy of every watched input, and the others; a
    remote file's bytes are kept in ``fetched`` for reading its rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gnomon.artifacts.local import LocalArtifactStore

    lowered = {c.name.lower() for c in columns}
    if not columns or len(lowered) < len(columns):  # DuckDB's names ignore case: "x", "X"
        return [], list(keys)
    typed, plain = [], []
    local = isinstance(store, LocalArtifactStore)
    for key in keys:
        if not local:
            fetched[key] = store.get_bytes(key)
        source = store.uri(key) if local else io.BytesIO(fetched[key])
        found = pq.read_schema(source)
        usable = True
        for column in columns:
            index = found.get_field_index(TYPED_PREFIX + column.name)
            kind = found.field(index).type if index >= 0 else None
            numeric = kind is not None and (pa.types.is_integer(kind) or pa.types.is_floating(kind))
            text = kind is not None and (
                numeric or pa.types.is_string(kind) or pa.types.is_boolean(kind)
            )
            if not (numeric if column.numeric else text and not pa.types.is_floating(kind)):
                usable = False
                break
        (typed if usable else plain).append(key)
    return typed, plain


def _positional(index: int) -> str:
    return f'"__in_{index}__"'


def input_column(name: str) -> str:
    """The records table's column of the input ``name``: prefixed, so an input called
    ``role`` or ``prediction`` never clashes with the record's own columns."""
    return f"in.{name}"


def _pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def number_sql(column: str) -> str:
    return f"CASE WHEN json_type({column}) IN {_NUMBER_TYPES} THEN CAST({column} AS DOUBLE) END"


def label_sql(column: str) -> str:
    kinds = "('VARCHAR','BOOLEAN','BIGINT','UBIGINT','DOUBLE')"
    return f"CASE WHEN json_type({column}) IN {kinds} THEN json_extract_string({column}, '$') END"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def source_view(
    con: duckdb.DuckDBPyConnection,
    store: ArtifactStore,
    keys: Sequence[str],
    columns: list[str],
    view: str = "raw",
    fetched: dict[str, bytes] | None = None,
) -> None:
    """``view``: the files' ``columns``. Local files are read by DuckDB itself, in parallel
    and column by column (half the memory of going through Arrow); other stores' bytes go
    through Arrow."""
    from gnomon.artifacts.local import LocalArtifactStore

    if keys and isinstance(store, LocalArtifactStore):
        paths = ", ".join(sql_literal(store.uri(key)) for key in keys)
        selected = ", ".join(_quoted(c) for c in columns)
        con.execute(
            f"CREATE VIEW {view} AS SELECT {selected} "
            f"FROM read_parquet([{paths}], union_by_name = true)"
        )
        return
    con.register(view, _read_parquet(store, keys, columns, fetched or {}))


def _read_parquet(
    store: ArtifactStore, keys: Sequence[str], columns: list[str], fetched: dict[str, bytes]
) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gnomon.predictions.records import OUTCOME_COLUMNS, RECORD_COLUMNS
    from gnomon.predictions.writer import schema

    known = schema(OUTCOME_COLUMNS if "value" in columns else RECORD_COLUMNS)
    wanted = pa.schema([known.field(name) for name in columns if name in known.names])
    tables = []
    for key in keys:
        data = fetched.pop(key, None) or store.get_bytes(key)  # popped: not held twice
        table = pq.read_table(io.BytesIO(data), columns=columns)
        # The record's own columns as the writer types them; typed inputs as the file has
        # them (an integer column in one file may be floats in the next: promoted below).
        tables.append(
            table.cast(
                pa.schema(
                    [known.field(f.name) if f.name in known.names else f for f in table.schema]
                )
            )
        )
    if not tables:
        return wanted.empty_table()
    return pa.concat_tables(tables, promote_options="permissive")


class in_memory_duckdb:
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
    "in_memory_duckdb",
    "label_sql",
    "number_sql",
    "partition_files",
    "read_outcomes",
    "read_records",
    "source_view",
    "sql_literal",
    "type_error_column",
]
