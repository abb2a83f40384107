"""Prediction records and outcomes, written off the request path as Parquet partitions.

A request hands its answer to :meth:`RecordWriter.submit_request` (or ready-made records to
:meth:`RecordWriter.submit`), which only appends to an in-memory queue under a lock. A daemon
thread wakes every ``interval`` seconds, or sooner when ``max_batch`` records wait, splits what
is queued by (deployment, hour) and writes one Parquet file per partition through
``ArtifactStore.put_bytes`` (atomic on every store)::

    {prefix}/deployment={d}/date={YYYY-MM-DD}/hour={HH}/part-{ms}-{uuid}.parquet

A failed write keeps its table for the next round, up to ``max_attempts`` tries; ``close()``
writes everything still queued, so a graceful shutdown loses nothing. Outcomes (ground truth
attached to a request id later) use the same machinery under ``outcomes/``.

Requests queued whole are turned into records by the writer thread, many at once and column by
column (:mod:`gnomon.serving.columnar`); both paths write the same files.

JSON columns are written by orjson: NaN and infinities become ``null`` (JSON has no NaN), numpy
values are written as numbers or lists, and anything else unknown as its ``str()``.
"""

from __future__ import annotations

import functools
import io
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from urllib.parse import quote

import orjson

from gnomon.artifacts.store import ArtifactStore
from gnomon.errors import Conflict
from gnomon.serving.columnar import RecordColumns, Request, json_text

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

logger = logging.getLogger(__name__)

_HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class PredictionRecord:
    """One answered row: what came in, what went out, and how long it took.

    ``inputs`` is one row (column → value); ``outputs`` is JSON-safe (a number, a list, a dict).
    ``role`` is ``"primary"``, or ``"shadow"``/``"canary"`` for a model answering alongside.
    """

    request_id: str
    time_ms: int
    deployment: str
    model_name: str
    model_version: int | None
    inputs: dict[str, Any]
    outputs: Any
    latency_ms: float
    role: str = "primary"
    violations: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The ground truth for ``request_id``, known some time after the prediction."""

    request_id: str
    time_ms: int
    deployment: str
    value: Any


class _Partitioned(Protocol):
    @property
    def deployment(self) -> str: ...

    @property
    def time_ms(self) -> int: ...


T = TypeVar("T", bound=_Partitioned)
Row = dict[str, Any]


@dataclass(slots=True)
class _Batch:
    """One partition's rows as an Arrow table, kept whole so that a retry does not rebuild it."""

    table: Any  # pyarrow.Table: pyarrow is imported by the writer thread only
    deployment: str
    hour: int  # hours since the epoch
    attempts: int = 0

    @property
    def rows(self) -> int:
        rows: int = self.table.num_rows
        return rows


class _BatchWriter(Generic[T]):
    """The queue, the writer thread and the partitioned Parquet files; rows come from ``to_row``.

    ``columns`` names each column's pyarrow type as a string (see ``_arrow_type``), so pyarrow
    is imported by the writer thread, never by the code that builds a writer.
    """

    def __init__(
        self,
        store: ArtifactStore,
        prefix: str,
        to_row: Callable[[T], Row],
        columns: dict[str, str],
        *,
        interval: float,
        max_batch: int,
        max_queue: int,
        max_attempts: int,
    ) -> None:
        self._store = store
        self._prefix = prefix.strip("/")
        self._to_row = to_row
        self._columns = columns
        self._interval = interval
        self._max_batch = max(1, max_batch)
        self._max_queue = max(1, max_queue)
        self._max_attempts = max(1, max_attempts)
        self._lock = threading.Lock()  # guards the queues and the counters
        self._write_lock = threading.Lock()  # one drain at a time: the thread's or flush()'s
        self._wake = threading.Event()
        self._queue: deque[T] = deque()
        self._retry: deque[_Batch] = deque()
        self._retry_count = 0
        self._error: BaseException | None = None
        self._gave_up = False  # since the last flush()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._written = 0
        self._dropped = 0
        self._failed_batches = 0

    @property
    def written(self) -> int:
        """Items written to the store so far."""
        return self._written

    @property
    def dropped(self) -> int:
        """Items lost: pushed out by ``max_queue``, or given up after ``max_attempts`` writes."""
        return self._dropped

    @property
    def failed_batches(self) -> int:
        """Partition files whose write raised (each is retried until ``max_attempts``)."""
        return self._failed_batches

    @property
    def pending(self) -> int:
        """Items queued or waiting for a retry."""
        with self._lock:
            return self._queued() + self._retry_count

    def submit(self, items: Sequence[T]) -> None:
        """Queue ``items`` for writing; never does I/O and never waits for a write.

        Raises:
            Conflict: the writer is closed.
        """
        with self._lock:
            self._check_open()
            self._queue.extend(items)
            full = self._accepted()
        if full:
            self._wake.set()

    def flush(self) -> None:
        """Write everything queued so far, retrying earlier failures once more.

        Raises:
            Exception: the last write error, when items are still waiting for a retry or were
                given up since the previous ``flush``. Failures a retry recovered from are
                counted in ``failed_batches`` and logged, not raised.
        """
        self._drain()
        with self._lock:
            error, self._error = self._error, None
            lost, self._gave_up = self._retry_count > 0 or self._gave_up, False
        if error is not None and lost:
            raise error

    def close(self) -> None:
        """Stop the writer thread and write everything queued; safe to call twice.

        Raises:
            Exception: as :meth:`flush`.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()

    def _check_open(self) -> None:
        # Called under the lock that close() sets _closed with: nothing joins after the last flush.
        if self._closed:
            raise Conflict(f"the writer of {self._prefix!r} is closed; nothing more is accepted")

    def _accepted(self) -> bool:
        """Bound the queue after an append and start the thread; whether to wake it now."""
        # Called under _lock, so two first submits cannot start two threads.
        queued = self._queued()
        if queued + self._retry_count > self._max_queue:
            self._trim()
            queued = self._queued()
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name=f"gnomon-{self._prefix}-writer", daemon=True
            )
            self._thread.start()
        return queued >= self._max_batch

    def _queued(self) -> int:
        """Rows queued and not built yet; called under ``_lock``."""
        return len(self._queue)

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._closed:
                return  # close() writes the rest on its own thread, where errors can surface
            self._drain()

    def _drain(self) -> None:
        with self._write_lock:
            with self._lock:
                retries = list(self._retry)
                self._retry.clear()
                self._retry_count = 0
            for batch in retries:
                self._write(batch)
            self._write_queued()

    def _write_queued(self) -> None:
        with self._lock:
            # Bounded by the length now, so a steady stream of submits cannot hold flush().
            rounds = -(-len(self._queue) // self._max_batch)
        for _ in range(rounds):
            with self._lock:
                take = min(self._max_batch, len(self._queue))
                batch = [self._queue.popleft() for _ in range(take)]
            if not batch:
                break
            for (deployment, hour), items in _partitions(batch).items():
                self._write_new(deployment, hour, len(items), functools.partial(self._table, items))

    def _write_new(self, deployment: str, hour: int, rows: int, build: Callable[[], Any]) -> None:
        try:
            table = build()
        except Exception as exc:  # the same rows would fail again: give them up at once
            self._failed(rows, exc, None, 0)
            return
        if table.num_rows:  # none when every request in it was dropped as unreadable
            self._write(_Batch(table, deployment, hour))

    def _write(self, batch: _Batch) -> None:
        try:
            self._store.put_bytes(_parquet(batch.table), self._key(batch.deployment, batch.hour))
        except Exception as exc:  # keep the rows and the thread; the error surfaces on flush
            batch.attempts += 1
            retry = batch if batch.attempts < self._max_attempts else None
            self._failed(batch.rows, exc, retry, batch.attempts)
        else:
            with self._lock:
                self._written += batch.rows

    def _failed(self, rows: int, error: BaseException, retry: _Batch | None, attempts: int) -> None:
        with self._lock:
            self._failed_batches += 1
            self._error = error
            if retry is None:
                self._dropped += rows
                self._gave_up = True
            else:
                # Failed rows are the oldest, so they are retried first and dropped first.
                self._retry.append(retry)
                self._retry_count += rows
                self._trim()
        if retry is not None:
            logger.warning("gnomon: writing %d items to %r failed: %s", rows, self._prefix, error)
        elif not attempts:
            logger.error("gnomon: could not build %d items for %r: %s", rows, self._prefix, error)
        else:
            logger.error(
                "gnomon: gave up writing %d items to %r after %d attempts: %s",
                rows,
                self._prefix,
                attempts,
                error,
            )

    def _trim(self) -> None:
        # Called under _lock. While storage is down, submissions keep coming; dropping the
        # oldest keeps memory bounded and keeps the newest data, which monitoring needs most.
        excess = self._queued() + self._retry_count - self._max_queue
        while excess > 0 and self._retry:
            oldest = self._retry[0]
            cut = min(excess, oldest.rows)
            oldest.table = oldest.table.slice(cut)  # zero-copy
            self._retry_count -= cut
            self._dropped += cut
            excess -= cut
            if not oldest.rows:
                self._retry.popleft()
        self._drop_queued(excess)

    def _drop_queued(self, excess: int) -> int:
        """Drop up to ``excess`` of the oldest queued rows; what is left to drop."""
        cut = min(max(0, excess), len(self._queue))
        for _ in range(cut):
            self._queue.popleft()
        self._dropped += cut
        return excess - cut

    def _key(self, deployment: str, hour_index: int) -> str:
        hour = datetime.fromtimestamp(hour_index * 3600, UTC)
        name = f"part-{time.time_ns() // 1_000_000:013d}-{uuid.uuid4().hex}.parquet"
        return (
            f"{self._prefix}/deployment={quote(deployment, safe='')}"
            f"/date={hour:%Y-%m-%d}/hour={hour:%H}/{name}"
        )

    def _schema(self) -> Any:
        import pyarrow as pa

        return pa.schema([(name, _arrow_type(kind)) for name, kind in self._columns.items()])

    def _table(self, items: list[T]) -> Any:
        import pyarrow as pa

        return pa.Table.from_pylist([self._to_row(item) for item in items], schema=self._schema())


def _parquet(table: Any) -> bytes:
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _partitions(items: list[T]) -> dict[tuple[str, int], list[T]]:
    groups: dict[tuple[str, int], list[T]] = {}
    for item in items:
        groups.setdefault((item.deployment, item.time_ms // _HOUR_MS), []).append(item)
    return groups


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "time": pa.timestamp("ms", tz="UTC"),
    }
    return types[kind]


_RECORD_COLUMNS = {
    "request_id": "string",
    "time": "time",
    "deployment": "string",
    "model_name": "string",
    "model_version": "int64",
    "role": "string",
    "latency_ms": "float64",
    "inputs": "string",
    "outputs": "string",
    "violations": "string",
}
_OUTCOME_COLUMNS = {
    "request_id": "string",
    "time": "time",
    "deployment": "string",
    "value": "string",
}


def _record_row(record: PredictionRecord) -> Row:
    return {
        "request_id": record.request_id,
        "time": record.time_ms,
        "deployment": record.deployment,
        "model_name": record.model_name,
        "model_version": record.model_version,
        "role": record.role,
        "latency_ms": record.latency_ms,
        "inputs": json_text(record.inputs),
        "outputs": json_text(record.outputs),
        "violations": None if record.violations is None else json_text(record.violations),
    }


def _outcome_row(outcome: Outcome) -> Row:
    return {
        "request_id": outcome.request_id,
        "time": outcome.time_ms,
        "deployment": outcome.deployment,
        "value": json_text(outcome.value),
    }


class RecordWriter(_BatchWriter[PredictionRecord]):
    """Writes :class:`PredictionRecord` batches to ``{prefix}/deployment=…/date=…/hour=…/``.

    Args:
        store: where the Parquet files go.
        prefix: the key below which every partition lives.
        interval: seconds between background writes.
        max_batch: queued records that wake the writer early; also the most read per batch.
        max_queue: the most records held in memory (queued plus awaiting a retry); beyond it
            the oldest are dropped and counted in ``dropped``.
        max_attempts: writes of one partition file before its records are given up.

    Example:
        >>> writer = RecordWriter(open_artifact_store("s3://monitoring"))
        >>> writer.submit_request("r1", now_ms, "churn", "churn-model", 3, "primary",
        ...                       frame, predictions, latency_ms)  # close() on shutdown
    """

    def __init__(
        self,
        store: ArtifactStore,
        prefix: str = "predictions",
        *,
        interval: float = 1.0,
        max_batch: int = 5000,
        max_queue: int = 200_000,
        max_attempts: int = 10,
    ) -> None:
        super().__init__(
            store,
            prefix,
            _record_row,
            _RECORD_COLUMNS,
            interval=interval,
            max_batch=max_batch,
            max_queue=max_queue,
            max_attempts=max_attempts,
        )
        self._later: deque[Callable[[], Sequence[PredictionRecord]]] = deque()
        self._requests: deque[Request] = deque()
        self._request_rows = 0

    def submit_request(
        self,
        request_id: str,
        time_ms: int,
        deployment: str,
        model_name: str,
        model_version: int | None,
        role: str,
        frame: pd.DataFrame,
        outputs: Sequence[Any] | np.ndarray[Any, Any],
        latency_ms: float,
        violations: list[dict[str, Any]] | None = None,
    ) -> None:
        """Queue one answered request; its records are built on the writer thread.

        The caller pays one append: rows, JSON and Arrow columns are built later, for many
        requests at once. ``frame`` must not be modified afterwards.

        Args:
            request_id: the request's id; a request of several rows gets ``<id>:<row>`` ids.
            time_ms: when it was answered, in ms since the epoch (picks the hour partition).
            deployment: the deployment that answered.
            model_name: the model that answered.
            model_version: its version, None for a local model.
            role: ``"primary"``, ``"shadow"`` or ``"canary"``.
            frame: the input rows, as given to the model.
            outputs: one value per row (a list, or an array whose rows are the values).
            latency_ms: the whole request's latency, shared equally by its rows.
            violations: contract violations as dicts with a ``"row"`` key; each row's own go
                with it (column-level ones, row -1, are not recorded).

        Raises:
            Conflict: the writer is closed.
        """
        rows = len(outputs)  # len(frame) costs ~10 times more; the writer checks they agree
        request = Request(
            request_id,
            time_ms,
            deployment,
            model_name,
            model_version,
            role,
            frame,
            outputs,
            latency_ms,
            violations,
            rows,
        )
        with self._lock:
            self._check_open()
            if not rows:
                return
            self._requests.append(request)
            self._request_rows += rows
            full = self._accepted()
        if full:
            self._wake.set()

    def submit_later(self, expand: Callable[[], Sequence[PredictionRecord]]) -> None:
        """Queue one request's records as a callable the writer thread expands.

        Prefer :meth:`submit_request`, which builds many requests' records at once.

        Raises:
            Conflict: the writer is closed.
        """
        with self._lock:
            self._check_open()
            self._later.append(expand)
            while len(self._later) > self._max_queue:  # bounded like the record queue
                self._later.popleft()
                self._dropped += 1
            self._accepted()

    def _queued(self) -> int:
        return len(self._queue) + self._request_rows

    def _drop_queued(self, excess: int) -> int:
        excess = super()._drop_queued(excess)
        while excess > 0 and self._requests:
            oldest = self._requests[0]
            cut = min(excess, oldest.rows - oldest.skip)
            if cut == oldest.rows - oldest.skip:
                self._requests.popleft()
            else:  # keep the request's newest rows, as the record queue would
                self._requests[0] = oldest._replace(skip=oldest.skip + cut)
            self._request_rows -= cut
            self._dropped += cut
            excess -= cut
        return excess

    def _write_queued(self) -> None:
        self._expand_later()
        super()._write_queued()
        with self._lock:
            rounds = -(-self._request_rows // self._max_batch)  # bounded, as in the base class
        for _ in range(rounds):
            batch = self._take_requests()
            if not batch:
                break
            for (deployment, hour), requests in _partitions(batch).items():
                rows = sum(request.rows - request.skip for request in requests)
                build = functools.partial(self._request_table, deployment, requests)
                self._write_new(deployment, hour, rows, build)

    def _take_requests(self) -> list[Request]:
        """The oldest requests, whole, up to ``max_batch`` rows (or one larger request)."""
        with self._lock:
            batch: list[Request] = []
            rows = 0
            while self._requests and rows < self._max_batch:
                request = self._requests.popleft()
                batch.append(request)
                rows += request.rows - request.skip
            self._request_rows -= rows
        return batch

    def _request_table(self, deployment: str, requests: list[Request]) -> Any:
        columns = RecordColumns(deployment)
        bad = 0
        for request in requests:
            try:
                columns.add(request)
            except Exception:  # one request's bad values must not stop the others
                logger.exception("could not build the records of request %r", request.request_id)
                bad += request.rows - request.skip
        table = columns.table(self._schema())
        with self._lock:  # counted once the table is built: a failure there drops them all
            self._dropped += bad
        return table

    def _expand_later(self) -> None:
        with self._lock:
            later = list(self._later)
            self._later.clear()
        for expand in later:
            try:
                records = expand()
            except Exception:  # one request's bad record must not stop the others
                logger.exception("could not build prediction records")
                continue
            with self._lock:
                self._queue.extend(records)
                self._trim()


class OutcomeWriter(_BatchWriter[Outcome]):
    """Writes :class:`Outcome` batches the way :class:`RecordWriter` writes records."""

    def __init__(
        self,
        store: ArtifactStore,
        prefix: str = "outcomes",
        *,
        interval: float = 1.0,
        max_batch: int = 5000,
        max_queue: int = 200_000,
        max_attempts: int = 10,
    ) -> None:
        super().__init__(
            store,
            prefix,
            _outcome_row,
            _OUTCOME_COLUMNS,
            interval=interval,
            max_batch=max_batch,
            max_queue=max_queue,
            max_attempts=max_attempts,
        )


def read_records(
    store: ArtifactStore, prefix: str = "predictions", deployment: str | None = None
) -> pd.DataFrame:
    """Every record under ``prefix`` (or one deployment's), sorted by time.

    ``inputs``, ``outputs`` and ``violations`` are decoded back to Python objects; ``time`` is
    a UTC timestamp.
    """
    return _read(store, prefix, deployment, _RECORD_COLUMNS, ("inputs", "outputs", "violations"))


def read_outcomes(
    store: ArtifactStore, prefix: str = "outcomes", deployment: str | None = None
) -> pd.DataFrame:
    """Every outcome under ``prefix`` (or one deployment's), sorted by time; ``value`` decoded."""
    return _read(store, prefix, deployment, _OUTCOME_COLUMNS, ("value",))


def join_outcomes(records: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """``records`` with ``outcome`` and ``outcome_time`` columns, matched on ``request_id``.

    A left join: records without an outcome get nulls. When a request id has several outcomes,
    the latest wins, so each record appears once.
    """
    latest = (
        outcomes.sort_values("time", kind="stable")
        .drop_duplicates("request_id", keep="last")
        .loc[:, ["request_id", "value", "time"]]
        .rename(columns={"value": "outcome", "time": "outcome_time"})
    )
    return records.merge(latest, on="request_id", how="left")


def _read(
    store: ArtifactStore,
    prefix: str,
    deployment: str | None,
    columns: dict[str, str],
    json_columns: tuple[str, ...],
) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = prefix.strip("/")
    if deployment is not None:
        root = f"{root}/deployment={quote(deployment, safe='')}"
    schema = pa.schema([(name, _arrow_type(kind)) for name, kind in columns.items()])
    tables = [
        pq.read_table(io.BytesIO(store.get_bytes(key)), schema=schema)
        for key in _parquet_keys(store, root)
    ]
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    # Nullable Int64 keeps model versions integers where some are missing (not float NaN).
    frame: pd.DataFrame = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    for column in json_columns:
        texts = table.column(column).to_pylist()
        decoded = [None if text is None else orjson.loads(text) for text in texts]
        frame[column] = pd.Series(decoded, index=frame.index, dtype=object)
    return frame.sort_values("time", kind="stable").reset_index(drop=True)


def _parquet_keys(store: ArtifactStore, prefix: str) -> list[str]:
    keys: list[str] = []
    for info in store.list(prefix):
        if info.is_dir:
            keys.extend(_parquet_keys(store, info.path))
        elif info.path.endswith(".parquet"):
            keys.append(info.path)
    return keys


__all__ = [
    "Outcome",
    "OutcomeWriter",
    "PredictionRecord",
    "RecordWriter",
    "join_outcomes",
    "read_outcomes",
    "read_records",
]
