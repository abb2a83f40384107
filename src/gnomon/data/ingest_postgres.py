"""A PostgreSQL table or query read through a server-side cursor, batch by batch, as Arrow.

Column types come from the result's description, never from the values, so every batch has
the same schema (an all-NULL batch included). Types Arrow has no natural match for (json,
uuid, interval, enums...) arrive as PostgreSQL's own text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from gnomon.data.ingest import empty_batch, without_password
from gnomon.errors import InvalidInput, Unavailable

CONNECT_TIMEOUT_S = 10
MAX_IDENTIFIER_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1
_CURSOR = "gnomon_ingest"
_SCALARS = {
    "bool": pa.bool_(),
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "oid": pa.int64(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "text": pa.string(),
    "varchar": pa.string(),
    "bpchar": pa.string(),
    "name": pa.string(),
    "char": pa.string(),
    "date": pa.date32(),
    "time": pa.time64("us"),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "bytea": pa.binary(),
}
_PRIMARY_KEY = """
SELECT a.attname FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = %s::regclass AND i.indisprimary
ORDER BY array_position(i.indkey::int2[], a.attnum)
"""


def check_table(table: str) -> str:
    """``NAME`` or ``SCHEMA.NAME``, each part matched exactly (as if double-quoted).

    Raises:
        InvalidInput: empty parts, more than two, or a part over 63 bytes.
    """
    parts = table.split(".")
    if len(parts) > 2 or any(
        not p or "\0" in p or len(p.encode()) > MAX_IDENTIFIER_BYTES for p in parts
    ):
        raise InvalidInput(
            f"table {table!r} is not NAME or SCHEMA.NAME (each 1 to 63 bytes)", {"table": table}
        )
    return table


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    type: pa.DataType
    convert: Callable[[Sequence[Any]], list[Any]] | None = None


def read_postgres(
    url: str, table: str | None, query: str | None, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Every row of ``table`` (in primary-key order when it has one) or of ``query``, read
    only, ``batch_rows`` at a time; at least one batch, empty when the result is.

    Raises:
        Unavailable: the server cannot be reached, or the connection is lost.
        InvalidInput: a malformed URL, an unknown table, or the database's error for a query.
    """
    try:
        import psycopg
    except ImportError as exc:
        raise InvalidInput(
            "reading PostgreSQL needs the postgres extra: pip install 'gnomon[postgres]'"
        ) from exc
    shown = without_password(url)
    password = urlsplit(url).password
    try:
        connection = psycopg.connect(_dsn(url), connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        raise Unavailable(
            f"PostgreSQL at {shown} cannot be reached: {_scrub(exc, password)}", {"url": shown}
        ) from None
    except psycopg.Error as exc:
        raise InvalidInput(
            f"{shown} is not a PostgreSQL URL psycopg takes: {_scrub(exc, password)}"
        ) from None
    with connection:
        connection.read_only = True  # a query cannot change the source it reads
        _load_as_text(connection)
        try:
            yield from _read(connection, table, query, batch_rows)
        except psycopg.OperationalError as exc:
            raise Unavailable(f"PostgreSQL at {shown}: {_scrub(exc, password)}") from None
        except psycopg.Error as exc:
            what = f"table {table!r}" if table is not None else "the query"
            message = exc.diag.message_primary or str(exc)
            raise InvalidInput(f"reading {what} failed: {_scrub(message, password)}") from None


def _read(
    connection: Any, table: str | None, query: str | None, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    statement = _select(connection, table) if table is not None else query
    with connection.cursor(name=_CURSOR) as cursor:
        cursor.execute(statement)
        columns = [_column(d) for d in cursor.description]
        schema = pa.schema([(c.name, c.type) for c in columns])
        yield empty_batch(schema)
        while rows := cursor.fetchmany(batch_rows):
            yield _batch(rows, columns, schema)


def _select(connection: Any, table: str) -> Any:
    from psycopg import sql

    name = sql.Identifier(*table.split("."))
    statement = sql.SQL("SELECT * FROM {}").format(name)
    # Ordered by the primary key, so an unchanged table gives the same rows in the same order.
    keys = [row[0] for row in connection.execute(_PRIMARY_KEY, [name.as_string(connection)])]
    if keys:
        order = sql.SQL(", ").join(sql.Identifier(k) for k in keys)
        statement += sql.SQL(" ORDER BY {}").format(order)
    return statement


def _column(description: Any) -> _Column:
    from psycopg import postgres

    info = postgres.types.get(description.type_code)
    name = description.name
    if info is None:  # a type of the database's own (an enum, an extension's): its text
        return _Column(name, pa.string())
    if info.oid != description.type_code:  # an array of info's type
        element = _SCALARS.get(info.name)
        return _Column(name, pa.string() if element is None else pa.list_(element))
    if info.name == "numeric":
        return _numeric(name, description.precision, description.scale)
    return _Column(name, _SCALARS.get(info.name, pa.string()))


def _numeric(name: str, precision: int | None, scale: int | None) -> _Column:
    if precision is None:  # numeric with no precision: as DuckDB reads it, a double
        return _Column(name, pa.float64(), _floats)
    if precision <= 38:
        return _Column(name, pa.decimal128(precision, scale or 0))
    if precision <= 76:
        return _Column(name, pa.decimal256(precision, scale or 0))
    return _Column(name, pa.string(), _strings)


def _floats(values: Sequence[Any]) -> list[Any]:
    return [None if v is None else float(v) for v in values]


def _strings(values: Sequence[Any]) -> list[Any]:
    return [None if v is None else str(v) for v in values]


def _batch(
    rows: list[tuple[Any, ...]], columns: list[_Column], schema: pa.Schema
) -> pa.RecordBatch:
    arrays = []
    for values, column in zip(zip(*rows, strict=True), columns, strict=True):
        data = column.convert(values) if column.convert is not None else values
        try:
            arrays.append(pa.array(data, column.type))
        except (pa.ArrowException, OverflowError, TypeError) as exc:
            raise InvalidInput(
                f"column {column.name!r} does not convert to {column.type}: {exc}; "
                "cast it in a --query"
            ) from None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _load_as_text(connection: Any) -> None:
    """Types outside ``_SCALARS`` (and their arrays) arrive as the server's text."""
    from psycopg import postgres
    from psycopg.types.string import TextLoader

    for info in postgres.types:
        if info.name not in _SCALARS and info.name != "numeric":
            connection.adapters.register_loader(info.oid, TextLoader)
        if info.name not in _SCALARS and info.array_oid:
            connection.adapters.register_loader(info.array_oid, TextLoader)


def _dsn(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.lower() == "postgresql+psycopg" else url


def _scrub(error: object, password: str | None) -> str:
    text = str(error).strip()
    return text.replace(password, "***") if password else text
