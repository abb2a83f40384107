"""Finding the prediction records of one request id among a workspace's Parquet partitions.

A model server writes a file per batch and hour (``records/deployment=…/date=…/hour=…/``),
so a busy workspace holds thousands of them. Two passes keep a lookup cheap: the first reads
only the ``request_id`` column of every file (Parquet is columnar, and DuckDB reads local
files in parallel), the second reads whole rows from the few files that hold a match.

A request of several rows is recorded as ``<id>:0``, ``<id>:1``…, and a shadow model's copy
of a request under the caller's id: one id can name several records.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from gnomon.artifacts.local import LocalArtifactStore
from gnomon.artifacts.store import ArtifactStore
from gnomon.checks import DOT_SEGMENTS, shown
from gnomon.errors import InvalidInput, Unavailable
from gnomon.predictions.entities import PredictionRecord
from gnomon.predictions.records import RECORDS

if TYPE_CHECKING:
    import duckdb

logger = logging.getLogger("gnomon.pipelines.prediction_records")
MAX_REQUEST_ID = 256
MAX_RECORDS = 100  # records of the chosen id read back: its row and the shadows' copies
# Files one search may read (a server writes one a second): about ten seconds of local disk;
# another store's are fetched whole, one by one. Past them, the caller narrows the search.
MAX_FILES = 100_000
MAX_FETCHED_FILES = 2_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# The request's own id, or one of its rows' ``<id>:<n>``: compared, never a LIKE pattern.
_MATCH = (
    "request_id = $id OR (starts_with(request_id, $row) "
    "AND regexp_full_match(request_id[length($row) + 1:], '[0-9]+'))"
)
# The id itself first, then its rows in order (row 2 before row 10).
_ORDER = "request_id <> $id, TRY_CAST(request_id[length($row) + 1:] AS UBIGINT) NULLS LAST"


@dataclass(frozen=True, slots=True)
class Found:
    """The records of the best-matching id (the answer first, shadow copies after) and how
    many ids matched: the rows of a request of several."""

    records: tuple[PredictionRecord, ...]
    ids: int


def check_request_id(request_id: object) -> str:
    """``request_id`` if it can name a record: 1 to 256 printable characters, no path step
    (``.``, ``..``) that an HTTP client would drop from the route.

    Raises:
        InvalidInput: any other value.
    """
    if not isinstance(request_id, str) or not 1 <= len(request_id) <= MAX_REQUEST_ID:
        raise InvalidInput(
            f"a request id is 1 to {MAX_REQUEST_ID} characters, got {shown(request_id)}",
            {"request_id": shown(request_id)},
        )
    if not request_id.isprintable():
        raise InvalidInput(
            f"request id {shown(request_id)} holds control or unprintable characters",
            {"request_id": shown(request_id)},
        )
    if any(part in DOT_SEGMENTS for part in request_id.split("/")):
        raise InvalidInput(f"request id {shown(request_id)} holds a '.' or '..' path step")
    return request_id


def find_records(
    store: ArtifactStore,
    request_id: str,
    deployment: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> Found | None:
    """The records of ``request_id`` (or of its first row), None when no file holds one.

    Only the hour partitions overlapping [since_ms, until_ms) of ``deployment`` (all: None)
    are read.

    Raises:
        InvalidInput: the search would read over ``MAX_FILES`` files (``MAX_FETCHED_FILES``
            from a store other than a local folder).
    """
    local = isinstance(store, LocalArtifactStore)
    limit = MAX_FILES if local else MAX_FETCHED_FILES
    files = record_files(store, deployment, since_ms, until_ms, limit=limit)
    if not files:
        return None
    import duckdb

    try:
        return _find(store, files, request_id, local)
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        # A file DuckDB cannot read as Parquet (a disk's damage, a copy cut short): the
        # store's state, not the caller's question; named by its key, never its path.
        said = str(exc)
        named = next((key for key in files if store.uri(key) in said), None)
        raise _unreadable(named, said) from exc


def _find(store: ArtifactStore, files: list[str], request_id: str, local: bool) -> Found | None:
    # Imported here, not with this module: it loads the model format, which only a search needs.
    from gnomon.monitoring.records import in_memory_duckdb

    with in_memory_duckdb() as con:
        source, given = _source(con, store, files, local, ["request_id"], "ids")
        best = con.execute(
            f"""
            SELECT request_id, files, count(*) OVER () AS ids FROM (
                SELECT request_id, list(DISTINCT filename) AS files
                FROM {source} WHERE {_MATCH} GROUP BY request_id
            ) ORDER BY {_ORDER} LIMIT 1
            """,
            {**given, "id": request_id, "row": request_id + ":"},
        ).fetchall()  # all (of one row): a pending result would block registering a table
        if not best:
            return None
        ((chosen, holding, ids),) = best
        if local:  # DuckDB names a local file by its path
            keys = {store.uri(key): key for key in files}
            holding = [keys[path] for path in holding]
        source, given = _source(con, store, holding, local, None, "rows")
        cursor = con.execute(
            f"SELECT * EXCLUDE (time, filename), epoch_ms(time) AS time_ms FROM {source} "
            f"WHERE request_id = $id ORDER BY role = 'shadow', time LIMIT {MAX_RECORDS}",
            {**given, "id": chosen},
        )
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return Found(tuple(_record(row) for row in rows), int(ids))


def record_files(
    store: ArtifactStore,
    deployment: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    *,
    limit: int | None = None,
) -> list[str]:
    """The Parquet files of ``deployment``'s (every one's) hours overlapping [since, until).

    Raises:
        InvalidInput: more than ``limit`` files (None: any number), found without listing
            the rest.
    """
    start, end = since_ms or 0, until_ms if until_ms is not None else 2**63
    if deployment is None:
        folders = [i.path for i in store.list(RECORDS) if _is(i.path, "deployment=") and i.is_dir]
    else:
        folders = [f"{RECORDS}/deployment={quote(deployment, safe='')}"]
    files: list[str] = []
    for folder in folders:
        for date_folder, day in _partitions(store, folder, "date=", "%Y-%m-%d"):
            if day is not None and not (day < end and day + DAY_MS > start):
                continue
            for hour_folder, hour in _partitions(store, date_folder, "hour=", "%H"):
                moment = None if day is None or hour is None else day + hour
                if moment is not None and not (moment < end and moment + HOUR_MS > start):
                    continue
                found = store.list(hour_folder)
                files.extend(i.path for i in found if not i.is_dir and i.path.endswith(".parquet"))
                if limit is not None and len(files) > limit:
                    raise _too_many(limit)
    return files


def _too_many(limit: int) -> InvalidInput:
    return InvalidInput(
        f"the search would read over {limit:,} prediction record files; "
        "narrow it to a deployment or a time span (since, until)",
        {"files_limit": limit},
    )


def _partitions(
    store: ArtifactStore, prefix: str, key: str, pattern: str
) -> Iterator[tuple[str, int | None]]:
    """The ``key…`` folders under ``prefix``, with where their span starts in ms (of the
    day, for hours); None when the name is not one: read, never skipped on a guess."""
    try:
        found = store.list(prefix)
    except InvalidInput:  # a deployment name too long to be a key: nothing was written there
        return
    for info in found:
        if not (info.is_dir and _is(info.path, key)):
            continue
        value = info.path.rstrip("/").rsplit("/", 1)[-1].removeprefix(key)
        try:
            parsed = datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            yield info.path, None
            continue
        if key == "hour=":
            yield info.path, parsed.hour * HOUR_MS
        else:
            yield info.path, int(parsed.timestamp()) * 1000


def _is(path: str, key: str) -> bool:
    return path.rstrip("/").rsplit("/", 1)[-1].startswith(key)


def _source(
    con: duckdb.DuckDBPyConnection,
    store: ArtifactStore,
    files: Sequence[str],
    local: bool,
    columns: list[str] | None,
    name: str,
) -> tuple[str, dict[str, Any]]:
    """What to select ``columns`` (all: None) of ``files`` from, with a ``filename`` column
    naming each row's file (what the next pass reads), and the parameters it takes.

    Local files are read by DuckDB itself, only the columns a query uses; another store's
    are fetched whole (their bytes have to come over anyway) and read through Arrow.
    """
    if local:
        paths = [store.uri(key) for key in files]
        return "read_parquet($files, filename = true, union_by_name = true)", {"files": paths}
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for key in files:
        try:
            table = pq.read_table(io.BytesIO(store.get_bytes(key)), columns=columns)
        except (pa.ArrowException, OSError) as exc:
            raise _unreadable(key, str(exc)) from exc
        tables.append(table.append_column("filename", pa.array([key] * len(table), pa.string())))
    con.register(name, pa.concat_tables(tables, promote_options="permissive"))
    return name, {}


def _unreadable(key: str | None, said: str) -> Unavailable:
    first = (said.splitlines() or [""])[0]
    logger.warning("a prediction records file cannot be read: %s", first[:500])
    which = f" {key!r}" if key else ""
    return Unavailable(f"the prediction records file{which} cannot be read as Parquet")


def _record(row: dict[str, Any]) -> PredictionRecord:
    violations = row.get("violations")
    version = row.get("model_version")
    return PredictionRecord(
        request_id=row["request_id"],
        time_ms=int(row["time_ms"]),
        deployment=row.get("deployment") or "",
        model_name=row.get("model_name") or "",
        model_version=None if version is None else int(version),
        inputs=_json(row.get("inputs")) or {},
        outputs=_json(row.get("outputs")),
        latency_ms=float(row.get("latency_ms") or 0.0),
        role=row.get("role") or "primary",
        violations=None if violations is None else _json(violations),
    )


def _json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


__all__ = ["MAX_REQUEST_ID", "Found", "check_request_id", "find_records", "record_files"]
