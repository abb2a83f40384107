"""What the partitioned writer promises about acknowledged data (outcomes) and telemetry
(prediction records) when its queue is full or storage fails."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gnomon.artifacts import LocalArtifactStore
from gnomon.errors import Unavailable
from gnomon.predictions.entities import AnsweredRequest, Outcome
from gnomon.predictions.reading import read_outcomes, read_records
from gnomon.predictions.records import OutcomeWriter, RecordWriter
from tests.unit.predictions.test_records import IDLE, T0, FlakyStore, record


def outcomes(prefix: str, count: int) -> list[Outcome]:
    return [Outcome(f"{prefix}{i}", T0 + i, "churn", i) for i in range(count)]


def test_outcomes_that_do_not_fit_are_refused_whole_and_nothing_is_evicted(
    tmp_path: Path,
) -> None:
    store = LocalArtifactStore(tmp_path)
    writer = OutcomeWriter(store, interval=IDLE, max_queue=5)
    writer.submit(outcomes("a", 3))
    with pytest.raises(Unavailable, match="cannot take 3 more") as refused:
        writer.submit(outcomes("b", 3))
    assert refused.value.details["retry_after"] >= 1
    writer.submit(outcomes("c", 2))  # what still fits is taken
    assert (writer.pending, writer.dropped) == (5, 0)

    writer.close()
    assert sorted(read_outcomes(store)["request_id"]) == ["a0", "a1", "a2", "c0", "c1"]


def test_accepted_outcomes_are_retried_until_written(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path, failures=3)
    writer = OutcomeWriter(store, interval=IDLE, max_attempts=1)
    writer.submit(outcomes("a", 4))
    for _ in range(3):  # a record writer would give them up after the first failure
        with pytest.raises(Unavailable):
            writer.flush()
        assert writer.pending == 4
    writer.close()
    assert (writer.written, writer.dropped) == (4, 0)


def test_outcomes_awaiting_a_retry_hold_their_place_in_the_queue(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path, failures=1)
    writer = OutcomeWriter(store, interval=IDLE, max_queue=5)
    writer.submit(outcomes("a", 4))
    with pytest.raises(Unavailable):
        writer.flush()
    with pytest.raises(Unavailable, match="4 of 5"):
        writer.submit(outcomes("b", 2))
    writer.close()
    assert (writer.written, writer.dropped) == (4, 0)


def test_dropped_records_are_reported(tmp_path: Path) -> None:
    writer = RecordWriter(LocalArtifactStore(tmp_path), interval=IDLE, max_queue=2)
    reported: list[int] = []
    writer.on_drop = reported.append
    writer.submit([record(f"r{i}", T0 + i) for i in range(5)])
    assert sum(reported) == writer.dropped == 3
    writer.close()


class DownStore(LocalArtifactStore):
    """A real local store that is down: each ``put_bytes`` waits for the test's go, then
    fails while ``down``."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.down = True
        self.entered = threading.Event()
        self.go = threading.Semaphore(0)

    def put_bytes(self, data: bytes, key: str) -> None:
        self.entered.set()
        assert self.go.acquire(timeout=10), "the test never let the write go on"
        if self.down:
            raise Unavailable("object store unreachable")
        super().put_bytes(data, key)


def _while_writing(store: DownStore, writer: OutcomeWriter, check: Callable[[], None]) -> None:
    """Run ``check`` while a flush is inside ``put_bytes``, then let that write go on."""
    store.entered.clear()
    errors: list[BaseException] = []

    def flush() -> None:
        try:
            writer.flush()
        except Unavailable as exc:
            errors.append(exc)

    flushing = threading.Thread(target=flush)
    flushing.start()
    assert store.entered.wait(10), "the writer never started writing"
    try:
        check()
    finally:
        store.go.release()
        flushing.join(10)
    assert bool(errors) == store.down


def test_outcomes_being_written_or_retried_still_count_against_max_queue(tmp_path: Path) -> None:
    # The reported attack: with storage down, items taken out of the queue to be written, and
    # those taken back out to be retried, were not counted, so a writer with max_queue=10,000
    # accepted 36,000 outcomes.
    store = DownStore(tmp_path)
    writer = OutcomeWriter(store, interval=IDLE, max_queue=5)
    writer.submit(outcomes("a", 5))

    def refused() -> None:
        assert writer.pending == 5
        with pytest.raises(Unavailable, match="5 of 5") as caught:
            writer.submit(outcomes("b", 1))
        assert caught.value.details["retry_after"] >= 1

    _while_writing(store, writer, refused)  # the first write
    refused()  # awaiting a retry
    _while_writing(store, writer, refused)  # being retried
    store.down = False
    _while_writing(store, writer, refused)  # being retried, and this time written
    assert (writer.pending, writer.written, writer.dropped) == (0, 5, 0)
    writer.submit(outcomes("b", 5))  # written ones make room
    store.go.release()
    writer.close()
    assert len(read_outcomes(store)) == 10


class FailingStore(LocalArtifactStore):
    """A real local store that is down: every ``put_bytes`` fails after a moment."""

    def put_bytes(self, data: bytes, key: str) -> None:
        time.sleep(0.002)
        raise Unavailable("object store unreachable")


def test_a_stream_of_outcomes_into_failing_storage_is_held_to_max_queue(tmp_path: Path) -> None:
    # The attack as run: clients keep sending while the writer keeps retrying. Nothing is
    # ever written, so everything accepted is still held: it must fit in max_queue.
    writer = OutcomeWriter(FailingStore(tmp_path), interval=0.001, max_queue=50)
    accepted = refused = 0
    for i in range(400):
        try:
            writer.submit(outcomes(f"r{i}-", 10))
            accepted += 10
        except Unavailable:
            refused += 1
            time.sleep(0.001)
    assert writer.written == 0 and accepted <= 50
    assert writer.failed_batches > 0 and refused > 0
    with pytest.raises(Unavailable):
        writer.close()


def test_an_outcome_that_cannot_be_built_costs_only_itself(tmp_path: Path) -> None:
    # The server's checks refuse such items; should one get past them, it used to fail its
    # whole batch: up to 5,000 other clients' acknowledged outcomes.
    store = LocalArtifactStore(tmp_path)
    writer = OutcomeWriter(store, interval=IDLE)
    reported: list[int] = []
    writer.on_drop = reported.append
    bad = [
        Outcome("evil-value", T0, "churn", "\ud800"),  # not Unicode: JSON text fails
        Outcome("\udfff", T0, "churn", 1),  # nor here: the Arrow string column fails
    ]
    writer.submit([*outcomes("a", 3), *bad, *outcomes("b", 3)])
    with pytest.raises(Exception, match="surrogates not allowed"):
        writer.flush()  # what was given up is reported, as for a failed write
    assert sorted(read_outcomes(store)["request_id"]) == ["a0", "a1", "a2", "b0", "b1", "b2"]
    assert (writer.written, writer.dropped, sum(reported), writer.pending) == (6, 2, 2, 0)
    writer.close()


def test_a_prediction_record_that_cannot_be_built_costs_only_itself(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    writer = RecordWriter(store, interval=IDLE)
    frame = pd.DataFrame({"age": [41, 42]})
    versions: list[Any] = [3, "three", 3]  # "three": not an int64, past any check
    for request_id, version in zip(["r1", "bad", "r2"], versions, strict=True):
        writer.submit_request(
            AnsweredRequest(request_id, T0, "churn", "m", version, "primary", frame, [0, 1], 1)
        )
    with pytest.raises(ValueError):  # pyarrow's ArrowInvalid, for the whole batch at first
        writer.flush()
    written = sorted(read_records(store)["request_id"])
    assert written == ["r1:0", "r1:1", "r2:0", "r2:1"]
    assert (writer.written, writer.dropped, writer.pending) == (4, 2, 0)
    writer.close()
