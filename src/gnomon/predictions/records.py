"""The background writers of prediction records and outcomes: Parquet partitions written off
the request path (:mod:`gnomon.predictions.writer`)::

    {prefix}/deployment={d}/date={YYYY-MM-DD}/hour={HH}/part-{ms}-{uuid}.parquet

A request hands its answer to :meth:`RecordWriter.submit_request` (or ready-made records to
:meth:`RecordWriter.submit`), which only appends to an in-memory queue under a lock. Failed
writes are retried and ``close()`` writes everything still queued, so a graceful shutdown
loses nothing. Outcomes (ground truth attached to a request id later) use the same machinery
under ``outcomes/``.

Requests queued whole are turned into records by the writer thread, many at once and column by
column (:mod:`gnomon.predictions.columnar`); both paths write the same files.

JSON columns are written by orjson: NaN and infinities become ``null`` (JSON has no NaN), numpy
values are written as numbers or lists, and anything else unknown as its ``str()``.
"""

from __future__ import annotations

import functools
import logging
from collections import deque
from collections.abc import Sequence
from typing import Any, Unpack

from gnomon.artifacts.store import ArtifactStore
from gnomon.predictions.columnar import Queued, RecordColumns, json_text
from gnomon.predictions.entities import AnsweredRequest, Outcome, PredictionRecord
from gnomon.predictions.writer import PartitionedWriter, Row, WriterLimits, partitions

logger = logging.getLogger("gnomon.predictions")

RECORDS = "records"  # the records' prefix in a workspace's predictions store
OUTCOMES = "outcomes"

RECORD_COLUMNS = {
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
OUTCOME_COLUMNS = {
    "request_id": "string",
    "time": "time",
    "deployment": "string",
    "value": "string",
}


class RecordWriter(PartitionedWriter[PredictionRecord]):
    """Writes :class:`PredictionRecord` batches to ``{prefix}/deployment=…/date=…/hour=…/``.

    Args: those of :class:`~gnomon.predictions.writer.PartitionedWriter`; ``prefix`` defaults
    to ``records``.

    Example:
        >>> writer = RecordWriter(predictions_store(root, workspace_id))
        >>> writer.submit_request(AnsweredRequest("r1", now_ms, "churn", "churn-model", 3,
        ...                       "primary", frame, predictions, latency_ms))  # close() later
    """

    PREFIX = RECORDS
    COLUMNS = RECORD_COLUMNS

    def __init__(
        self, store: ArtifactStore, prefix: str | None = None, **limits: Unpack[WriterLimits]
    ) -> None:
        super().__init__(store, prefix, **limits)
        self._requests: deque[Queued] = deque()
        self._request_rows = 0

    def submit_request(self, request: AnsweredRequest) -> None:
        """Queue one answered request; its records are built on the writer thread.

        The caller pays one append: rows, JSON and Arrow columns are built later, for many
        requests at once.

        Raises:
            Conflict: the writer is closed.
        """
        rows = len(request.outputs)  # len(frame) costs ~10 times more; the writer checks both
        with self._lock:
            self._check_open()
            if not rows:
                return
            self._requests.append(Queued(request, rows))
            self._request_rows += rows
            full = self._accepted()
        if full:
            self._wake.set()

    def _row(self, record: PredictionRecord) -> Row:
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
            self._count_dropped(cut)
            excess -= cut
        return excess

    def _write_queued(self) -> None:
        super()._write_queued()
        with self._lock:
            rounds = -(-self._request_rows // self._max_batch)  # bounded, as in the base class
        for _ in range(rounds):
            batch = self._take_requests()
            if not batch:
                break
            for (deployment, hour), requests in partitions(batch).items():
                build = functools.partial(self._request_table, deployment)
                self._write_new(deployment, hour, requests, build, _rows)

    def _take_requests(self) -> list[Queued]:
        """The oldest requests, whole, up to ``max_batch`` rows (or one larger request)."""
        with self._lock:
            batch: list[Queued] = []
            rows = 0
            while self._requests and rows < self._max_batch:
                queued = self._requests.popleft()
                batch.append(queued)
                rows += queued.rows - queued.skip
            self._request_rows -= rows
            self._in_flight += rows
        return batch

    def _request_table(self, deployment: str, requests: Sequence[Queued]) -> Any:
        columns = RecordColumns(deployment)
        bad = 0
        for queued in requests:
            try:
                columns.add(queued)
            except Exception:  # one request's bad values must not stop the others
                request_id = queued.request.request_id
                logger.exception("could not build the records of request %r", request_id)
                bad += queued.rows - queued.skip
        table = columns.table(self._schema())
        with self._lock:  # counted once the table is built: if that fails, each is rebuilt alone
            self._count_dropped(bad)
        return table


def _rows(requests: Sequence[Queued]) -> int:
    return sum(queued.rows - queued.skip for queued in requests)


class OutcomeWriter(PartitionedWriter[Outcome]):
    """Writes :class:`Outcome` batches the way :class:`RecordWriter` writes records, under
    ``outcomes`` unless ``prefix`` says otherwise.

    Outcomes are acknowledged to the client that sent them, so none is ever dropped once
    accepted: ``submit`` raises :class:`~gnomon.errors.Unavailable` when they do not fit in
    ``max_queue``, and failed writes are retried until they succeed or the writer closes.
    """

    PREFIX = OUTCOMES
    COLUMNS = OUTCOME_COLUMNS
    EVICTS = False

    def _row(self, outcome: Outcome) -> Row:
        return {
            "request_id": outcome.request_id,
            "time": outcome.time_ms,
            "deployment": outcome.deployment,
            "value": json_text(outcome.value),
        }


__all__ = [
    "OUTCOMES",
    "OUTCOME_COLUMNS",
    "RECORDS",
    "RECORD_COLUMNS",
    "OutcomeWriter",
    "RecordWriter",
]
