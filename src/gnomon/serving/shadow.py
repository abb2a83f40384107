"""Shadow predictions: a copy of each request, answered on a thread of its own, never returned.

The primary's answer is sent without waiting for any shadow. Shadow work queues on one
thread; when it falls more than ``max_pending`` requests behind, new copies are dropped and
counted, so a slow shadow can never grow memory or slow the primary path.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

logger = logging.getLogger("gnomon.serving")


class ShadowRunner:
    def __init__(self, max_pending: int = 256) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="gnomon-shadow")
        self._max_pending = max_pending
        self._pending = 0
        self._lock = threading.Lock()
        self.dropped = 0
        self.failed = 0

    def submit(self, work: Callable[[], None]) -> bool:
        """Queue ``work``; False (and counted in ``dropped``) when too far behind."""
        with self._lock:
            if self._pending >= self._max_pending:
                self.dropped += 1
                return False
            self._pending += 1
        self._executor.submit(work).add_done_callback(self._done)
        return True

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending -= 1
        error = future.exception()
        if error is not None:
            self.failed += 1
            logger.error("shadow prediction failed: %s", error)

    def close(self) -> None:
        """Finish the queued shadows (their records are written on shutdown too)."""
        self._executor.shutdown(wait=True)
