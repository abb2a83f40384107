"""Versions gathered from outside gnomon: a PostgreSQL table or query, Parquet and CSV files on
S3 or a local disk, or a DuckDB query.

Query results are streamed into Parquet part files of at most ``PART_ROWS`` rows, written in
row groups of a fixed size, so the same rows in the same order give the same bytes whatever
batches they arrived in (and an unchanged source makes no new version). Files are copied as
they are. Either way ``DatasetService.add`` versions a temporary folder, removed whatever
happens.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.parquet as pq

from gnomon._types import Scope
from gnomon.data.entities import AddResult
from gnomon.data.service import DatasetService
from gnomon.errors import InvalidInput
from gnomon.tracking.validation import check_name

Progress = Callable[[int, int | None], None]
PART_ROWS = 1_048_576  # rows per part file
ROW_GROUP_ROWS = 131_072  # rows held in memory at once, and per Parquet row group
FETCH_ROWS = 10_000  # rows asked of a database at a time
PART_NAME = "part-{:05d}.parquet"
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a version comes from. ``url`` is as given: it may hold a password."""

    kind: str  # postgresql, duckdb, s3 or local
    url: str
    table: str | None = None
    query: str | None = None

    @property
    def is_query(self) -> bool:
        return self.kind in ("postgresql", "duckdb")

    def record(self) -> dict[str, str]:
        """What the version records: the URL without its password, the table or query."""
        found = {"kind": self.kind}
        if self.kind != "duckdb":
            found["url"] = without_password(self.url)
        if self.table is not None:
            found["table"] = self.table
        if self.query is not None:
            found["query"] = self.query
        return found


def parse_source(source: str, table: str | None = None, query: str | None = None) -> Source:
    """Which kind of source ``source`` names, checked with its ``table`` or ``query``.

    Raises:
        InvalidInput: an unknown scheme, or a table or query that does not fit the source.
    """
    text = source.strip()
    if query is not None and not query.strip():
        raise InvalidInput("--query is empty")
    if text.lower() == "duckdb":
        if table is not None or query is None:
            raise InvalidInput("a DuckDB source takes a --query (and no --table)")
        return Source("duckdb", "duckdb", query=query)
    match = _SCHEME.match(text)
    scheme = match[1].lower() if match else ""
    if scheme in POSTGRES_SCHEMES:
        if (table is None) == (query is None):
            raise InvalidInput("a PostgreSQL source takes either --table or --query")
        from gnomon.data.ingest_postgres import check_table

        return Source("postgresql", text, None if table is None else check_table(table), query)
    if scheme not in ("", "s3", "file"):
        raise InvalidInput(
            f"unknown source scheme '{scheme}://': give postgresql://, s3://, a local path "
            "or duckdb",
            {"scheme": scheme},
        )
    if table is not None or query is not None:
        raise InvalidInput("--table and --query are for PostgreSQL and DuckDB sources")
    if scheme == "s3":
        return Source("s3", text)
    path = urlsplit(text).path if scheme == "file" else text
    return Source("local", str(Path(path).expanduser().absolute()))


def without_password(url: str) -> str:
    """``url`` with no password in its user part or its query string."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}@{netloc.rsplit('@', 1)[1]}"
    # password, sslpassword...: libpq takes secrets in the query string too
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if "password" not in k.lower()])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def ingest(
    service: DatasetService,
    scope: Scope,
    name: str,
    source: str,
    *,
    table: str | None = None,
    query: str | None = None,
    message: str = "",
    run_id: str | None = None,
    s3_endpoint_url: str | None = None,
    part_rows: int = PART_ROWS,
    on_progress: Progress | None = None,
) -> AddResult:
    """Version what ``source`` holds as dataset ``name`` (the contract is documented on
    :meth:`gnomon.data.api.DatasetsApi.ingest`); ``on_progress`` gets rows written, or bytes
    copied for files."""
    name = check_name("dataset", name)  # before reading a whole table
    with staged(source, table, query, s3_endpoint_url, part_rows, on_progress) as (data, record):
        return service.add(scope, data, name, message=message, source=record, run_id=run_id)


@contextmanager
def staged(
    source: str,
    table: str | None,
    query: str | None,
    s3_endpoint_url: str | None,
    part_rows: int = PART_ROWS,
    on_progress: Progress | None = None,
) -> Iterator[tuple[Path, dict[str, str]]]:
    """What ``source`` holds, in a temporary folder (removed after the block), and the
    source record to keep with the version. The remote client ingests through it too."""
    found = parse_source(source, table, query)
    with tempfile.TemporaryDirectory(prefix="gnomon-ingest-") as folder:
        data = Path(folder) / "data"
        data.mkdir()
        record = found.record()
        if found.is_query:
            rows = write_parts(_batches(found), data, part_rows, on_progress)
            record["rows"] = str(rows)
        else:
            from gnomon.data import ingest_files

            ingest_files.copy(found.kind, found.url, data, s3_endpoint_url, on_progress)
        yield data, record


def _batches(found: Source) -> Iterator[pa.RecordBatch]:
    if found.kind == "duckdb":
        assert found.query is not None
        return read_duckdb(found.query)
    from gnomon.data.ingest_postgres import read_postgres

    return read_postgres(found.url, found.table, found.query, FETCH_ROWS)


def read_duckdb(query: str, batch_rows: int = FETCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The result of a DuckDB query (in a database of its own, in memory), batch by batch;
    at least one batch, empty when the result is."""
    import duckdb

    connection = duckdb.connect()
    try:
        connection.execute("SET enable_progress_bar = false")  # ours is drawn instead
        try:
            relation = connection.sql(query)
        except duckdb.Error as exc:
            raise InvalidInput(f"the DuckDB query failed: {exc}") from None
        if relation is None:  # a statement (SET, CREATE...) rather than a query
            raise InvalidInput("the DuckDB query returns no rows: give a SELECT")
        # to_arrow_reader is DuckDB 1.4's name; earlier ones have fetch_arrow_reader only.
        open_reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
        try:
            reader = open_reader(batch_rows)
            yield empty_batch(reader.schema)
            yield from reader
        except (duckdb.Error, pa.ArrowException) as exc:
            raise InvalidInput(f"the DuckDB query failed: {exc}") from None
    finally:
        connection.close()


def empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)


def write_parts(
    batches: Iterator[pa.RecordBatch],
    folder: Path,
    part_rows: int = PART_ROWS,
    on_progress: Progress | None = None,
) -> int:
    """Write ``batches`` (all of one schema, at least one) as Parquet part files in
    ``folder``; returns the rows written. At most one row group is held in memory."""
    if part_rows < 1:
        raise InvalidInput(f"part_rows must be positive, got {part_rows}")
    first = next(batches)
    parts = _PartWriter(folder, first.schema, part_rows, on_progress)
    try:
        for batch in itertools.chain([first], batches):
            parts.add(batch)
        parts.finish()
    finally:
        parts.close()
    return parts.rows


class _PartWriter:
    def __init__(
        self, folder: Path, schema: pa.Schema, part_rows: int, on_progress: Progress | None
    ) -> None:
        self.folder, self.schema, self.part_rows = folder, schema, part_rows
        self.group_rows = min(ROW_GROUP_ROWS, part_rows)
        self.on_progress = on_progress
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0
        self.writer: pq.ParquetWriter | None = None
        self.parts = self.in_part = self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self.pending.append(batch)
            self.pending_rows += batch.num_rows
        while self.pending_rows and self.pending_rows >= self._room():
            self._write_group(self._room())

    def finish(self) -> None:
        if self.pending_rows:
            self._write_group(self.pending_rows)
        if self.parts == 0:  # an empty result is one part file of no rows, with its schema
            self._open()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _room(self) -> int:
        return min(self.group_rows, self.part_rows - self.in_part)

    def _write_group(self, count: int) -> None:
        table = pa.Table.from_batches(self.pending, self.schema)
        rest = table.slice(count)
        self.pending, self.pending_rows = rest.to_batches(), rest.num_rows
        writer = self.writer or self._open()
        # One chunk per column: the bytes then depend on the rows alone, not on the batches.
        writer.write_table(table.slice(0, count).combine_chunks(), row_group_size=count)
        self.in_part += count
        self.rows += count
        if self.in_part == self.part_rows:
            self.close()
            self.in_part = 0
        if self.on_progress is not None:
            self.on_progress(self.rows, None)

    def _open(self) -> pq.ParquetWriter:
        path = self.folder / PART_NAME.format(self.parts)
        self.parts += 1
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        return self.writer
