"""Buffered logging: the SDK hands points to a background thread that writes them in batches.

The caller's thread only validates and appends to a list, so a training loop pays
microseconds per ``log_metric``. The writer wakes every ``interval`` seconds, or sooner when
``size`` items are waiting, and writes one transaction per run and chunk of ``size`` items.
``flush()`` returns once everything logged before it is written, and re-raises a write error
from the background.

A write that fails for a transient reason (the store unreachable, 502/503/504, 429) is kept
and retried, oldest first, with a capped exponential backoff, for ``retry_window`` seconds
from the first failure. Meanwhile new values keep queueing in the outbox, which spills to a
file past ``max_items`` (see ``outbox.py``). When the window runs out, everything queued is
given up: logged as an error, counted per run, raised by the next ``flush()``, and reported
by ``end_run`` (see ``fluent.py``). A permanent error (a 4xx) drops its batch at once and is
raised by the next ``flush()``, as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gnomon.errors import GnomonError, Unavailable
from gnomon.tracking.entities import Metric, RunData, RunStatus
from gnomon.tracking.outbox import Batch, Outbox

if TYPE_CHECKING:
    from gnomon.config import Settings

logger = logging.getLogger(__name__)

Writer = Callable[[str, RunData, RunStatus | None], None]  # run, values, its end or None
Task = Callable[[], None]


def _default_spill_dir() -> Path:
    return Path.home() / ".gnomon" / "spill"


@dataclass(frozen=True, slots=True)
class BufferOptions:
    """How the buffer batches, retries and bounds its memory (``GNOMON_*`` settings)."""

    interval: float = 0.5
    size: int = 5000  # items that trigger a write; also the most one batch carries
    max_items: int = 100_000  # values kept in memory while the store is away; then spilled
    retry_window: float = 300.0
    backoff: float = 0.2
    backoff_max: float = 10.0
    spill_dir: Path = field(default_factory=_default_spill_dir)

    @classmethod
    def from_settings(cls, settings: Settings) -> BufferOptions:
        return cls(
            interval=settings.flush_interval,
            size=settings.flush_size,
            max_items=settings.buffer_max_items,
            retry_window=settings.retry_window_seconds,
            backoff=settings.retry_backoff_seconds,
            backoff_max=settings.retry_backoff_max_seconds,
            spill_dir=settings.home / "spill",
        )


@dataclass
class _Pending:
    metrics: list[Metric] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    end: RunStatus | None = None  # written with the run's last values (see ``end``)


@dataclass
class _Outage:
    since: float  # monotonic time the first failed attempt started
    error: BaseException
    failures: int = 0


class LogBuffer:
    def __init__(self, write: Writer, options: BufferOptions | None = None) -> None:
        self._write = write
        self.options = options or BufferOptions()
        self._lock = threading.Lock()  # _pending, _count, _tasks, _submitted, losses
        self._wake = threading.Event()
        self._done = threading.Condition()
        self._drain_lock = threading.Lock()  # one sender at a time: batches leave in order
        self._pending: dict[str, _Pending] = {}
        self._tasks: list[Task] = []
        self._count = 0
        self._submitted = 0  # flush requests handed over (guarded by _lock)
        self._written = 0  # flush requests answered (guarded by _done)
        self._outbox = Outbox(self.options.max_items, self.options.spill_dir)
        self._trigger = min(self.options.size, self.options.max_items)
        self._outage: _Outage | None = None  # touched by the sender only
        self._error: BaseException | None = None
        self._lost: dict[str, int] = {}  # per run, until end_run takes it
        self._unreported: dict[str, int] = {}  # per run, until flush raises it
        self._ended: set[str] = set()  # runs ended with their last batch, until end() asks
        self._thread: threading.Thread | None = None
        self._closed = False

    def add_metric(self, run_id: str, metric: Metric) -> None:
        with self._lock:
            pending = self._pending.get(run_id)
            if pending is None:
                pending = self._pending[run_id] = _Pending()
            pending.metrics.append(metric)
            self._count += 1
            count = self._count
        if self._thread is None:
            self._started()
        if count >= self._trigger:
            self._woken(count)

    def add(self, run_id: str, params: dict[str, str], tags: dict[str, str]) -> None:
        with self._lock:
            pending = self._pending.setdefault(run_id, _Pending())
            pending.params.update(params)
            pending.tags.update(tags)
            self._count += len(params) + len(tags)
            count = self._count
        self._started()
        if count >= self._trigger:
            self._woken(count)

    def end(self, run_id: str, status: RunStatus) -> bool:
        """Write what ``run_id`` logged and end it ``status`` in the same write, then wait as
        ``wait`` does. False when the run was not ended so (nothing left to write with it,
        values of it given up, a write that failed): the caller then ends it itself."""
        with self._lock:
            self._ended.discard(run_id)
            self._pending.setdefault(run_id, _Pending()).end = status
            self._count += 1
        self._started()
        try:
            while True:
                self.wait()
                with self._lock:
                    item = self._pending.get(run_id)
                    if item is None or item.end is None:  # written, or not: never again
                        ended = run_id in self._ended
                        self._ended.discard(run_id)
                        return ended
                # Held back behind a task queued meanwhile (see _absorb): one more round.
        except BaseException:  # interrupted: the caller ends the run, not a later round
            with self._lock:
                item = self._pending.get(run_id)
                if item is not None:
                    item.end = None
            raise

    def submit(self, task: Task, wake: bool = True) -> None:
        """Run ``task`` on the writer thread, before the next batch is written: at once, or
        with ``wake=False`` at the writer's next round (its interval, a full buffer, a flush)."""
        with self._lock:
            self._tasks.append(task)
        self._started()
        if wake:
            self._wake.set()

    def flush(self) -> None:
        """Write everything logged so far, retrying through a short outage.

        Raises:
            GnomonError: the first write that failed for good in the background.
            Unavailable: logged values were given up since the last ``flush`` (the store
                could not take them within the retry window); ``details["lost"]`` counts
                them per run.
        """
        self.wait()
        self.raise_error()
        with self._lock:
            lost, self._unreported = self._unreported, {}
        if lost:
            raise Unavailable(_lost_message(lost, self.options.retry_window), {"lost": lost})

    def wait(self, timeout: float | None = None) -> None:
        """Return once everything logged so far is written or given up, or after ``timeout``
        seconds; raises nothing."""
        if self._thread is not None and self._thread.is_alive() and not self._closed:
            with self._lock:
                self._submitted += 1
                target = self._submitted
            self._wake.set()
            with self._done:
                self._done.wait_for(lambda: self._written >= target or self._closed, timeout)
        else:
            self._drain()

    def take_lost(self, run_id: str) -> int:
        """How many values of ``run_id`` were given up so far (now counted as reported)."""
        with self._lock:
            self._unreported.pop(run_id, None)
            return self._lost.pop(run_id, 0)

    def raise_error(self) -> None:
        """Raise the first write error from the background, once."""
        error, self._error = self._error, None
        if error is not None:
            raise error

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._closed = True
            self._wake.set()
            self._outbox.close()

    def _started(self) -> None:
        if self._thread is None and not self._closed:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._loop, name="gnomon-log-writer", daemon=True
                    )
                    self._thread.start()

    def _woken(self, count: int) -> None:
        if not self._wake.is_set():  # a loop past the trigger calls this for every value
            self._wake.set()
        if count >= self.options.max_items:
            self._absorb()  # the writer is stuck on the store: bound memory from here

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self.options.interval)
            self._wake.clear()
            with self._lock:
                target = self._submitted
            self._drain()
            with self._done:
                self._written = max(self._written, target)
                self._done.notify_all()

    def _drain(self) -> None:
        with self._drain_lock:
            # Tasks first: what they log (captured tags) joins this same round of writes.
            # They stay listed until they have run: an end waits behind them (see _absorb).
            with self._lock:
                tasks = list(self._tasks)
            for task in tasks:
                self._guard(task)
            with self._lock:
                del self._tasks[: len(tasks)]
            self._absorb()
            self._send_queued()

    def _absorb(self) -> None:
        """Move what was logged into the outbox (spilling past the memory bound)."""
        with self._outbox.lock:  # one absorber at a time, so batches queue in log order
            with self._lock:
                pending, self._pending = self._pending, {}
                self._count = 0
                if self._tasks:  # one queued or running may log to a run ending: it goes first
                    for run_id, item in pending.items():
                        if item.end is not None:
                            self._pending[run_id] = _Pending(end=item.end)
                            item.end = None
            failed = self._outbox.put(_batches(pending, self.options.size))
            if failed:  # counted before the lock goes: no later batch of the run ends it
                self._give_up(failed, "they could not be kept in memory or spilled to disk")

    def _send_queued(self) -> None:
        while (batch := self._outbox.peek()) is not None:
            if self._send(batch):
                self._outbox.pop()
            elif self._window_over():
                with self._outbox.lock:
                    given_up = list(self._outbox.take_all())
                self._give_up(given_up, self._outage_reason())
                self._outage = None
            else:
                self._pause()

    def _send(self, batch: Batch) -> bool:
        """Write one batch; False when it failed for a transient reason and stays queued."""
        started = time.monotonic()
        end = batch.end
        if end is not None:
            with self._lock:
                if self._lost.get(batch.run_id):
                    end = None  # a run missing values never ends as logged: end() says no
        try:
            self._write(batch.run_id, batch.data, end)
        except Exception as exc:
            if _transient(exc):
                self._failed(exc, started)
                return False
            self._keep_error(exc)
            return True
        if end is not None:
            with self._lock:
                self._ended.add(batch.run_id)
        if self._outage is not None:
            waited = time.monotonic() - self._outage.since
            logger.warning("gnomon: the store answers again after %.1f s; sending the rest", waited)
            self._outage = None
        return True

    def _failed(self, exc: Exception, started: float) -> None:
        if self._outage is None:
            self._outage = _Outage(started, exc)
            logger.warning(
                "gnomon: a buffered write failed (%s); keeping the values and retrying for up "
                "to %g s",
                exc,
                self.options.retry_window,
            )
        self._outage.error = exc
        self._outage.failures += 1

    def _window_over(self) -> bool:
        assert self._outage is not None
        return time.monotonic() - self._outage.since >= self.options.retry_window

    def _pause(self) -> None:
        """Back off before the next attempt, moving new values to the outbox meanwhile."""
        assert self._outage is not None
        options = self.options
        delay = options.backoff * 2 ** min(self._outage.failures - 1, 30)
        delay = min(max(delay, _retry_after(self._outage.error)), options.backoff_max)
        # The last attempt is made as the window closes, not a backoff after it.
        deadline = min(time.monotonic() + delay, self._outage.since + options.retry_window)
        self._absorb()
        while (left := deadline - time.monotonic()) > 0:
            if self._wake.wait(left):
                self._wake.clear()
                self._absorb()

    def _outage_reason(self) -> str:
        assert self._outage is not None
        waited = time.monotonic() - self._outage.since
        return f"the store could not take them for {waited:.1f} s: {self._outage.error}"

    def _give_up(self, batches: list[Batch], reason: str) -> None:
        lost: dict[str, int] = {}
        for batch in batches:
            lost[batch.run_id] = lost.get(batch.run_id, 0) + batch.size
        with self._lock:
            for run_id, count in lost.items():
                self._lost[run_id] = self._lost.get(run_id, 0) + count
                self._unreported[run_id] = self._unreported.get(run_id, 0) + count
        for run_id, count in lost.items():
            logger.error(
                "gnomon: LOST %d logged values (metric points, params, tags) of run %r: %s",
                count,
                run_id,
                reason,
            )

    def _guard(self, work: Task) -> None:
        try:
            work()
        except Exception as exc:  # keep the writer alive; the error surfaces on flush
            self._keep_error(exc)

    def _keep_error(self, exc: Exception) -> None:
        if isinstance(exc, GnomonError):
            logger.warning("gnomon: a buffered write failed: %s", exc)
        else:
            logger.error("gnomon: a buffered write failed", exc_info=exc)
        self._error = self._error or exc


def _batches(pending: dict[str, _Pending], size: int) -> Iterator[Batch]:
    """Each run's values in batches of at most ``size`` metric points, params and tags
    riding with the first, and the run's end (if asked) with the last."""
    for run_id, item in pending.items():
        starts = range(0, max(len(item.metrics), 1), size)
        for start in starts:
            chunk = item.metrics[start : start + size]
            data = RunData(chunk, item.params, item.tags) if start == 0 else RunData(chunk)
            if data:  # an end alone is the caller's to write, as end_run does it
                yield Batch(run_id, data, item.end if start == starts[-1] else None)


def _transient(exc: BaseException) -> bool:
    """Worth retrying: the store is away (``Unavailable``, unless the transport says a retry
    cannot help, as for a refused certificate) or asked us to come back (429)."""
    if not isinstance(exc, GnomonError):
        return False
    if "retry_after" in exc.details:
        return True
    return isinstance(exc, Unavailable) and exc.details.get("transient", True) is not False


def _retry_after(exc: BaseException) -> float:
    details = exc.details if isinstance(exc, GnomonError) else {}
    try:
        return max(float(details.get("retry_after", 0)), 0.0)
    except (TypeError, ValueError):
        return 0.0


def _lost_message(lost: dict[str, int], window: float) -> str:
    runs = ", ".join(f"{count} of run {run_id!r}" for run_id, count in lost.items())
    return (
        f"logged values were lost ({runs}): the store could not take them within the retry "
        f"window of {window:g} s (GNOMON_RETRY_WINDOW_SECONDS); see the log for the cause"
    )
