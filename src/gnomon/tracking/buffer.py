"""Buffered logging: the SDK hands points to a background thread that writes them in batches.

The caller's thread only validates and appends to a list, so a training loop pays
microseconds per ``log_metric``. The writer wakes every ``interval`` seconds, or sooner when
``size`` items are waiting, and writes one transaction per run. ``flush()`` returns once
everything logged before it is written, and re-raises a write error from the background.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from gnomon.errors import GnomonError
from gnomon.tracking.entities import Metric, RunData

logger = logging.getLogger(__name__)

Writer = Callable[[str, RunData], None]
Task = Callable[[], None]


@dataclass
class _Pending:
    metrics: list[Metric] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


class LogBuffer:
    def __init__(self, write: Writer, interval: float = 0.5, size: int = 5000) -> None:
        self._write = write
        self._interval = interval
        self._size = size
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._done = threading.Condition()
        self._pending: dict[str, _Pending] = {}
        self._tasks: list[Task] = []
        self._count = 0
        self._submitted = 0  # batches handed over (guarded by _lock)
        self._written = 0  # batches finished (guarded by _done)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def add_metric(self, run_id: str, metric: Metric) -> None:
        with self._lock:
            pending = self._pending.get(run_id)
            if pending is None:
                pending = self._pending[run_id] = _Pending()
            pending.metrics.append(metric)
            self._count += 1
            full = self._count >= self._size
        self._started()
        if full:
            self._wake.set()

    def add(self, run_id: str, params: dict[str, str], tags: dict[str, str]) -> None:
        with self._lock:
            pending = self._pending.setdefault(run_id, _Pending())
            pending.params.update(params)
            pending.tags.update(tags)
            self._count += len(params) + len(tags)
        self._started()

    def submit(self, task: Task) -> None:
        """Run ``task`` on the writer thread, before the next batch is written."""
        with self._lock:
            self._tasks.append(task)
        self._started()
        self._wake.set()

    def flush(self) -> None:
        """Write everything logged so far; raise the first background error, if any."""
        if self._thread is not None and self._thread.is_alive():
            with self._lock:
                self._submitted += 1
                target = self._submitted
            self._wake.set()
            with self._done:
                self._done.wait_for(lambda: self._written >= target or self._closed)
        else:
            self._drain()
        self._raise_error()

    def close(self) -> None:
        self.flush()
        self._closed = True
        self._wake.set()

    def _started(self) -> None:
        if self._thread is None and not self._closed:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._loop, name="gnomon-log-writer", daemon=True
                    )
                    self._thread.start()

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()
            with self._lock:
                target = self._submitted
            self._drain()
            with self._done:
                self._written = max(self._written, target)
                self._done.notify_all()

    def _drain(self) -> None:
        # Tasks first: what they log (captured tags) joins this same round of writes.
        with self._lock:
            tasks, self._tasks = self._tasks, []
        for task in tasks:
            self._guard(task)
        with self._lock:
            pending, self._pending = self._pending, {}
            self._count = 0
        for run_id, batch in pending.items():
            data = RunData(batch.metrics, batch.params, batch.tags)
            self._guard(functools.partial(self._write, run_id, data))

    def _guard(self, work: Task) -> None:
        try:
            work()
        except GnomonError as exc:
            logger.warning("gnomon: a buffered write failed: %s", exc)
            self._error = self._error or exc
        except Exception as exc:  # keep the writer alive; the error surfaces on flush
            logger.exception("gnomon: a buffered write failed")
            self._error = self._error or exc

    def _raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error
