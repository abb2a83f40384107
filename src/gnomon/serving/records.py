"""Prediction records and outcomes, written off the request path as Parquet partitions.

A request hands its answer to :meth:`RecordWriter.submit_request` (or ready-made records to
:meth:`RecordWriter.submit`), which only appends to an in-memory queue under a lock; a
background thread writes one Parquet file per (deployment, hour) partition
(:mod:`gnomon.serving.writer`)::

    {prefix}/deployment={d}/date={YYYY-MM-DD}/hour={HH}/part-{ms}-{uuid}.parquet

Failed writes are retried and ``close()`` writes everything still queued, so a graceful
shutdown loses nothing. Outcomes (ground truth attached to a request id later) use the same
machinery under ``outcomes/``.

Requests queued whole are turned into records by the writer thread, many at once and column by
column (:mod:`gnomon.serving.columnar`); both paths write the same files.

JSON columns are written by orjson: NaN and infinities become ``null`` (JSON has no NaN), numpy
values are written as numbers or lists, and anything else unknown as its ``str()``.
"""

from __future__ import annotations

import functools
import io
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Unpack
from urllib.parse import quote

import orjson

from gnomon.artifacts.store import ArtifactStore
from gnomon.serving.columnar import RecordColumns, Request, json_text
from gnomon.serving.writer import PartitionedWriter, Row, WriterLimits, partitions, schema

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

logger = logging.getLogger(__name__)


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


class RecordWriter(PartitionedWriter[PredictionRecord]):
    """Writes :class:`PredictionRecord` batches to ``{prefix}/deployment=…/date=…/hour=…/``.

    Args: those of :class:`~gnomon.serving.writer.PartitionedWriter`; ``prefix`` defaults to
    ``predictions``.

    Example:
        >>> writer = RecordWriter(open_artifact_store("s3://monitoring"))
        >>> writer.submit_request("r1", now_ms, "churn", "churn-model", 3, "primary",
        ...                       frame, predictions, latency_ms)  # close() on shutdown
    """

    PREFIX = "predictions"
    COLUMNS = _RECORD_COLUMNS

    def __init__(
        self, store: ArtifactStore, prefix: str | None = None, **limits: Unpack[WriterLimits]
    ) -> None:
        super().__init__(store, prefix, **limits)
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
            self._in_flight += rows
        return batch

    def _request_table(self, deployment: str, requests: Sequence[Request]) -> Any:
        columns = RecordColumns(deployment)
        bad = 0
        for request in requests:
            try:
                columns.add(request)
            except Exception:  # one request's bad values must not stop the others
                logger.exception("could not build the records of request %r", request.request_id)
                bad += request.rows - request.skip
        table = columns.table(self._schema())
        with self._lock:  # counted once the table is built: if that fails, each is rebuilt alone
            self._count_dropped(bad)
        return table


def _rows(requests: Sequence[Request]) -> int:
    return sum(request.rows - request.skip for request in requests)


class OutcomeWriter(PartitionedWriter[Outcome]):
    """Writes :class:`Outcome` batches the way :class:`RecordWriter` writes records, under
    ``outcomes`` unless ``prefix`` says otherwise.

    Outcomes are acknowledged to the client that sent them, so none is ever dropped once
    accepted: ``submit`` raises :class:`~gnomon.errors.Unavailable` when they do not fit in
    ``max_queue``, and failed writes are retried until they succeed or the writer closes.
    """

    PREFIX = "outcomes"
    COLUMNS = _OUTCOME_COLUMNS
    EVICTS = False

    def _row(self, outcome: Outcome) -> Row:
        return {
            "request_id": outcome.request_id,
            "time": outcome.time_ms,
            "deployment": outcome.deployment,
            "value": json_text(outcome.value),
        }


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
    wanted = schema(columns)
    tables = [
        pq.read_table(io.BytesIO(store.get_bytes(key)), schema=wanted)
        for key in _parquet_keys(store, root)
    ]
    table = pa.concat_tables(tables) if tables else wanted.empty_table()
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
