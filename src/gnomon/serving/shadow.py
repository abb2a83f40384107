"""Shadow predictions: a copy of each request, answered on a thread of its own, never returned.

The primary's answer is sent without waiting for any shadow. Shadow work queues on one
thread; when it falls more than ``max_pending`` requests behind, new copies are dropped and
counted, so a slow shadow can never grow memory or slow the primary path. A shadow's request
is checked against its own contract by the same step as the primary's
(:func:`gnomon.serving.answering.check`), and recorded with role ``shadow``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, NamedTuple

import pandas as pd

from gnomon.predictions.records import RecordWriter
from gnomon.serving.answering import answered, check
from gnomon.serving.metrics import ServingMetrics
from gnomon.serving.outputs import per_row, recorded
from gnomon.serving.params import predict_with_params, takes_params
from gnomon.serving.routing import RouteTable, ServedArm

logger = logging.getLogger("gnomon.serving")


class ShadowCopy(NamedTuple):
    """A request as the primary's path read it, for one shadow arm to answer."""

    table: RouteTable
    arm: ServedArm
    raw: pd.DataFrame
    request_id: str
    params: dict[str, Any] | None = None  # the request's inference params


def answer_copy(copy: ShadowCopy, metrics: ServingMetrics, records: RecordWriter | None) -> None:
    """Answer ``copy`` with its shadow arm (on the shadow thread) and record the answer; a
    failure is counted and logged, never raised."""
    started = time.perf_counter()
    arm = copy.arm
    checked = check(copy.table, arm, copy.raw)
    rows = len(checked.frame)
    given = [None] * rows
    if not checked.refused:
        predicting = time.perf_counter()
        try:
            answer = _shadow_answer(arm, checked.frame, copy.params)
        except Exception:
            metrics.errors.labels("shadow").inc()
            logger.exception("shadow %s/%s failed to predict", arm.name, arm.version)
        else:
            took = time.perf_counter() - predicting
            given = recorded(answer, per_row(answer, rows), rows)
            metrics.predictions.labels(arm.name, arm.version_label, arm.role).inc(rows)
            metrics.prediction_seconds.labels(arm.name, arm.version_label, arm.role).observe(took)
    if records is not None:
        records.submit_request(answered(copy.request_id, copy.table, arm, checked, given, started))


def _shadow_answer(arm: ServedArm, frame: pd.DataFrame, params: dict[str, Any] | None) -> Any:
    # A shadow whose predict takes no params answers without them: it answers nobody, and
    # its record shows what it would have said.
    if params is not None and takes_params(arm.model):
        return predict_with_params(arm.model, frame, params)
    return arm.model.predict(frame)


class ShadowRunner:
    """Runs ``answer`` on each submitted copy, in order, on one thread of its own."""

    def __init__(self, answer: Callable[[ShadowCopy], None], max_pending: int = 256) -> None:
        self._answer = answer
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="gnomon-shadow")
        self._max_pending = max_pending
        self._pending = 0
        self._lock = threading.Lock()
        self.dropped = 0
        self.failed = 0

    def submit(self, copy: ShadowCopy) -> bool:
        """Queue ``copy``; False (and counted in ``dropped``) when too far behind."""
        with self._lock:
            if self._pending >= self._max_pending:
                self.dropped += 1
                return False
            self._pending += 1
        self._executor.submit(self._answer, copy).add_done_callback(self._done)
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


__all__ = ["ShadowCopy", "ShadowRunner", "answer_copy"]
