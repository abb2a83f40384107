"""A view's rows as a DuckDB relation: its declared source, plus the rows pushed to it
(``push_features``), with exactly the columns the view declares (join keys, features, event
time, created time). Files are scanned by DuckDB (nothing loaded whole); a PostgreSQL source
is streamed in chunks of Arrow batches. ``parquet_files`` lists a view's rows' files where
they are all local Parquet, for the join that reads them without DuckDB (``offline_arrow.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from gnomon.errors import InvalidInput, NotFound
from gnomon.features.definitions import DatasetSource, FeatureView, FileSource, PostgresSource

if TYPE_CHECKING:  # opening gnomon builds this capability: DuckDB loads when a source is read
    import duckdb

# Dataset ref -> the local files of that version (the data capability checks it out).
DatasetFiles = Callable[[str], list[Path]]
PG_CHUNK_ROWS = 100_000


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def columns_of(view: FeatureView, join_keys: list[str]) -> list[str]:
    wanted = [*join_keys, *view.feature_names, view.timestamp_field]
    if view.created_timestamp_field:
        wanted.append(view.created_timestamp_field)
    return wanted


def _scan(paths: list[Path], fmt: str) -> str:
    listed = ", ".join(literal(str(p)) for p in paths)
    reader = "read_parquet" if fmt == "parquet" else "read_csv_auto"
    extra = ", union_by_name = true" if fmt == "parquet" else ""
    return f"{reader}([{listed}]{extra})"


def _files(path: Path, fmt: str) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.rglob(f"*.{fmt}") if p.is_file())
        if not found:
            raise NotFound(f"no .{fmt} file under {path}")
        return found
    if not path.is_file():
        raise NotFound(f"source file {path} not found")
    return [path]


def _pushed_files(pushed: Path | None) -> list[Path]:
    return sorted(pushed.glob("*.parquet")) if pushed and pushed.is_dir() else []


def parquet_files(
    view: FeatureView, *, dataset_files: DatasetFiles | None = None, pushed: Path | None = None
) -> list[Path] | None:
    """The local Parquet files holding all of ``view``'s rows (its source's, then those pushed
    to it), or None where some are not (CSV, PostgreSQL, a dataset with other files).

    Raises:
        NotFound: the source's files or dataset version do not exist.
    """
    source = view.source
    if isinstance(source, FileSource) and source.format == "parquet":
        files = _files(Path(source.path).expanduser(), "parquet")
    elif isinstance(source, DatasetSource) and dataset_files is not None:
        files = dataset_files(source.ref)
        if not files or any(p.suffix.lower() != ".parquet" for p in files):
            return None
    else:
        return None
    return [*files, *_pushed_files(pushed)]


def register_source(
    con: duckdb.DuckDBPyConnection,
    view: FeatureView,
    join_keys: list[str],
    *,
    dataset_files: DatasetFiles | None = None,
    pushed: Path | None = None,
) -> str:
    """Registers ``view``'s rows in ``con`` as a view named after it; returns that name.

    Raises:
        NotFound: the source's files or dataset version do not exist.
        InvalidInput: the source lacks a declared column (all named).
    """
    source = view.source
    name = quoted(f"src_{view.name}")
    if isinstance(source, FileSource):
        scan = _scan(_files(Path(source.path).expanduser(), source.format), source.format)
    elif isinstance(source, DatasetSource):
        if dataset_files is None:
            raise InvalidInput(f"feature view {view.name!r} reads a dataset: no data capability")
        files = dataset_files(source.ref)
        fmt = "csv" if files and all(p.suffix.lower() == ".csv" for p in files) else "parquet"
        scan = _scan(files, fmt)
    else:
        scan = _postgres(con, view, source)
    wanted = columns_of(view, join_keys)
    present = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    missing = [c for c in wanted if c not in present]
    if missing:
        raise InvalidInput(f"the source of feature view {view.name!r} lacks the columns {missing}")
    select = ", ".join(quoted(c) for c in wanted)
    body = f"SELECT {select} FROM {scan}"
    pushed_files = _pushed_files(pushed)
    if pushed_files:
        body += f" UNION ALL BY NAME SELECT {select} FROM {_scan(pushed_files, 'parquet')}"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {body}")
    return name


def _postgres(con: duckdb.DuckDBPyConnection, view: FeatureView, source: PostgresSource) -> str:
    """Streams the query into a DuckDB table in chunks (DuckDB's own PostgreSQL extension
    would be downloaded, and this machine may have no internet)."""
    import pyarrow as pa

    from gnomon.features.pg_source import connect

    table = quoted(f"pg_{view.name}")
    created = False
    # read-only, and PGPASSWORD only for PGHOST's host: the author is not the reader
    with connect(source.uri) as conn, conn.cursor(name=f"gnomon_{view.name}") as cursor:
        cursor.execute(source.query)
        names: list[str] = []
        while rows := cursor.fetchmany(PG_CHUNK_ROWS):
            names = names or [d.name for d in cursor.description or []]
            batch = pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
            con.register("pg_chunk", batch)
            verb = "INSERT INTO" if created else "CREATE OR REPLACE TEMP TABLE"
            suffix = " SELECT * FROM pg_chunk" if created else " AS SELECT * FROM pg_chunk"
            con.execute(f"{verb} {table}{suffix}")
            con.unregister("pg_chunk")
            created = True
    if not created:
        raise NotFound(f"the query of feature view {view.name!r} returned no rows")
    return table
