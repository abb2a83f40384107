"""The background writer behind prediction records and outcomes: partitioned Parquet files.

:meth:`PartitionedWriter.submit` only appends to an in-memory queue under a lock. A daemon
thread wakes every ``interval`` seconds, or sooner when ``max_batch`` items wait, splits what
is queued by (deployment, hour) and writes one Parquet file per partition through
``ArtifactStore.put_bytes`` (atomic on every store)::

    {prefix}/deployment={d}/date={YYYY-MM-DD}/hour={HH}/part-{ms}-{uuid}.parquet

A failed write keeps its table for the next round, up to ``max_attempts`` tries; ``close()``
writes everything still queued, so a graceful shutdown loses nothing. An item that cannot be
turned into a row (which the server's input checks should have refused) costs only itself:
when a batch fails to build, its items are built one by one and the bad ones dropped, logged
and counted (``dropped``, ``on_drop``). A subclass names its
default prefix and columns and turns an item into a row (:mod:`gnomon.predictions.records`).

Two kinds of data, two ways to stay within ``max_queue``: telemetry (prediction records,
``EVICTS``) drops its oldest items and counts them; acknowledged data (outcomes) is never
dropped once accepted, so ``submit`` refuses what does not fit with
:class:`~gnomon.errors.Unavailable` (the server answers 503 with ``Retry-After``) and failed
writes are retried until they succeed or the writer closes. What it holds counts items queued,
being written and awaiting a retry, so ``max_queue`` stays a bound while storage is failing.
"""

from __future__ import annotations

import io
import logging
import math
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Protocol, TypedDict, TypeVar
from urllib.parse import quote

from gnomon.artifacts.store import ArtifactStore
from gnomon.errors import Conflict, Unavailable

logger = logging.getLogger("gnomon.predictions")

_HOUR_MS = 3_600_000


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


class WriterLimits(TypedDict, total=False):
    """A writer's keyword arguments, for subclasses that pass them on."""

    interval: float
    max_batch: int
    max_queue: int
    max_attempts: int


class PartitionedWriter(ABC, Generic[T]):
    """The queue, the writer thread and the partitioned Parquet files.

    A subclass names its default ``PREFIX`` and its ``COLUMNS``, each column's pyarrow type as
    a string (see ``_arrow_type``, so pyarrow is imported by the writer thread, never by the
    code that builds a writer), and turns an item into a row in ``_row``.

    Args:
        store: where the Parquet files go.
        prefix: the key below which every partition lives (default ``PREFIX``).
        interval: seconds between background writes.
        max_batch: queued items that wake the writer early; also the most read per batch.
        max_queue: the most items held in memory (queued, being written or awaiting a retry);
            beyond it the oldest are dropped and counted in ``dropped`` or, when ``EVICTS`` is
            false, new items are refused. Items being written cannot be evicted, so an
            evicting writer holds up to one batch more while it writes.
        max_attempts: writes of one partition file before its items are given up (only when
            ``EVICTS``: otherwise accepted items are retried until written).
    """

    PREFIX: ClassVar[str]
    COLUMNS: ClassVar[dict[str, str]]
    # Whether accepted items may be dropped to stay within max_queue (best-effort telemetry).
    EVICTS: ClassVar[bool] = True

    def __init__(
        self,
        store: ArtifactStore,
        prefix: str | None = None,
        *,
        interval: float = 1.0,
        max_batch: int = 5000,
        max_queue: int = 200_000,
        max_attempts: int = 10,
    ) -> None:
        self._store = store
        self._prefix = (self.PREFIX if prefix is None else prefix).strip("/")
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
        self._in_flight = 0  # rows taken from the queues and not yet written or given up
        self._error: BaseException | None = None
        self._gave_up = False  # since the last flush()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._written = 0
        self._dropped = 0
        self._failed_batches = 0
        # Called with each count of items dropped, under the writer's lock (a metric's inc).
        self.on_drop: Callable[[int], None] | None = None

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
        """Partition files whose build or write raised (a write is retried until
        ``max_attempts``; a build is redone item by item, without the items that fail)."""
        return self._failed_batches

    @property
    def pending(self) -> int:
        """Items queued, being written or waiting for a retry."""
        with self._lock:
            return self._held()

    def submit(self, items: Sequence[T]) -> None:
        """Queue ``items`` for writing; never does I/O and never waits for a write.

        Raises:
            Conflict: the writer is closed.
            Unavailable: ``EVICTS`` is false and ``items`` do not all fit in ``max_queue``
                now; none is queued, and ``details["retry_after"]`` says when to try again.
        """
        with self._lock:
            self._check_open()
            if not self.EVICTS:
                self._reserve(len(items))
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

    def _held(self) -> int:
        # Called under _lock.
        return self._queued() + self._retry_count + self._in_flight

    def _reserve(self, count: int) -> None:
        # Called under _lock: all of a request's items fit, or none is taken. Items being
        # written or retried count: storage that keeps failing must not let the queue grow.
        held = self._held()
        if held + count > self._max_queue:
            wait = max(1, math.ceil(self._interval))
            raise Unavailable(
                f"the {self._prefix} queue cannot take {count} more items now "
                f"({held} of {self._max_queue} are waiting to be written); "
                f"retry in {wait} s",
                {"retry_after": wait, "queued": held, "max_queue": self._max_queue},
            )

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
                self._in_flight += self._retry_count
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
                self._in_flight += take
            if not batch:
                break
            for (deployment, hour), items in partitions(batch).items():
                self._write_new(deployment, hour, items, self._table)

    def _write_new(
        self,
        deployment: str,
        hour: int,
        items: Sequence[Any],
        build: Callable[[Sequence[Any]], Any],
        size: Callable[[Sequence[Any]], int] = len,
    ) -> None:
        """Build ``items`` (``size`` rows, all in flight) into one table and write it."""
        rows = size(items)
        try:
            table = build(items)
        except Exception as exc:  # one bad item must not cost the others their rows
            table = self._build_each(items, build, size, exc)
        built = 0 if table is None else table.num_rows
        if built < rows:  # the rest were dropped, and counted, as they failed to build
            with self._lock:
                self._in_flight -= rows - built
        if built:
            self._write(_Batch(table, deployment, hour))

    def _build_each(
        self,
        items: Sequence[Any],
        build: Callable[[Sequence[Any]], Any],
        size: Callable[[Sequence[Any]], int],
        error: Exception,
    ) -> Any | None:
        """``items`` built one at a time, without those that fail; None when none builds."""
        import pyarrow as pa

        tables, bad = [], 0
        for item in items:
            try:
                tables.append(build([item]))
            except Exception as exc:
                bad += size([item])
                error = exc
        with self._lock:
            self._failed_batches += 1
            if bad:  # given up: the same items would fail again
                self._error = error
                self._gave_up = True
                self._count_dropped(bad)
        logger.error(
            "gnomon: %d items for %r failed to build together; dropped the %d that fail alone: %s",
            size(items),
            self._prefix,
            bad,
            error,
        )
        return pa.concat_tables(tables) if tables else None

    def _write(self, batch: _Batch) -> None:
        try:
            self._store.put_bytes(_parquet(batch.table), self._key(batch.deployment, batch.hour))
        except Exception as exc:  # keep the rows and the thread; the error surfaces on flush
            batch.attempts += 1
            keep = not self.EVICTS or batch.attempts < self._max_attempts
            retry = batch if keep else None
            self._failed(batch.rows, exc, retry, batch.attempts)
        else:
            with self._lock:
                self._written += batch.rows
                self._in_flight -= batch.rows

    def _failed(self, rows: int, error: BaseException, retry: _Batch | None, attempts: int) -> None:
        with self._lock:
            self._in_flight -= rows  # to a retry, or given up: either way no longer in flight
            self._failed_batches += 1
            self._error = error
            if retry is None:
                self._count_dropped(rows)
                self._gave_up = True
            else:
                # Failed rows are the oldest, so they are retried first and dropped first.
                self._retry.append(retry)
                self._retry_count += rows
                self._trim()
        if retry is not None:
            logger.warning("gnomon: writing %d items to %r failed: %s", rows, self._prefix, error)
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
        if not self.EVICTS:  # _reserve keeps such a writer within max_queue
            return
        excess = self._queued() + self._retry_count - self._max_queue
        while excess > 0 and self._retry:
            oldest = self._retry[0]
            cut = min(excess, oldest.rows)
            oldest.table = oldest.table.slice(cut)  # zero-copy
            self._retry_count -= cut
            self._count_dropped(cut)
            excess -= cut
            if not oldest.rows:
                self._retry.popleft()
        self._drop_queued(excess)

    def _drop_queued(self, excess: int) -> int:
        """Drop up to ``excess`` of the oldest queued rows; what is left to drop."""
        cut = min(max(0, excess), len(self._queue))
        for _ in range(cut):
            self._queue.popleft()
        self._count_dropped(cut)
        return excess - cut

    def _count_dropped(self, count: int) -> None:
        # Called under _lock.
        if count <= 0:
            return
        self._dropped += count
        if self.on_drop is not None:
            self.on_drop(count)

    def _key(self, deployment: str, hour_index: int) -> str:
        hour = datetime.fromtimestamp(hour_index * 3600, UTC)
        name = f"part-{time.time_ns() // 1_000_000:013d}-{uuid.uuid4().hex}.parquet"
        return (
            f"{self._prefix}/deployment={quote(deployment, safe='')}"
            f"/date={hour:%Y-%m-%d}/hour={hour:%H}/{name}"
        )

    @abstractmethod
    def _row(self, item: T) -> Row:
        """``item`` as one row of ``COLUMNS`` (times in ms since the epoch)."""

    def _schema(self) -> Any:
        return schema(self.COLUMNS)

    def _table(self, items: Sequence[T]) -> Any:
        import pyarrow as pa

        return pa.Table.from_pylist([self._row(item) for item in items], schema=self._schema())


def _parquet(table: Any) -> bytes:
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def partitions(items: list[T]) -> dict[tuple[str, int], list[T]]:
    groups: dict[tuple[str, int], list[T]] = {}
    for item in items:
        groups.setdefault((item.deployment, item.time_ms // _HOUR_MS), []).append(item)
    return groups


def schema(columns: dict[str, str]) -> Any:
    """The pyarrow schema of ``columns`` (name to a type's name)."""
    import pyarrow as pa

    return pa.schema([(name, _arrow_type(kind)) for name, kind in columns.items()])


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "time": pa.timestamp("ms", tz="UTC"),
    }
    return types[kind]


__all__ = ["PartitionedWriter", "Row", "WriterLimits", "partitions", "schema"]
