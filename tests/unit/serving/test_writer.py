"""What the partitioned writer promises about acknowledged data (outcomes) and telemetry
(prediction records) when its queue is full or storage fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnomon.artifacts import LocalArtifactStore
from gnomon.errors import Unavailable
from gnomon.serving.records import Outcome, OutcomeWriter, RecordWriter, read_outcomes
from tests.unit.serving.test_records import IDLE, T0, FlakyStore, record


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
