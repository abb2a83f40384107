"""Reading a deployment's live answers for the gate and the smoke test: only the window's
hour partitions, shadows' copies left out, the newest first kept, outcomes joined."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from gnomon._types import now_ms
from gnomon.artifacts.local import LocalArtifactStore
from gnomon.artifacts.store import ArtifactStore
from gnomon.automation.evidence import gather, live_inputs
from gnomon.automation.gate import _labelled
from gnomon.automation.loop import DAY_MS, _newest_inputs
from gnomon.automation.spec import GateSpec
from gnomon.monitoring.records import HOUR_MS
from gnomon.predictions.entities import Outcome, PredictionRecord
from gnomon.predictions.records import OutcomeWriter, RecordWriter

WEB = "web"


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return LocalArtifactStore(tmp_path / "predictions")


def _answer(
    store: ArtifactStore,
    at: int,
    ids: list[str],
    role: str = "primary",
    outcomes: dict[str, object] | None = None,
) -> None:
    """One record per id answered at ``at + index``; the outcomes, when given, at ``at``."""
    records = RecordWriter(store)
    records.submit(
        [
            PredictionRecord(rid, at + i, WEB, "churn", 1, {"x": i, "id": rid}, 1, 2.0, role)
            for i, rid in enumerate(ids)
        ]
    )
    records.close()
    if outcomes:
        writer = OutcomeWriter(store)
        writer.submit([Outcome(rid, at, WEB, value) for rid, value in outcomes.items()])
        writer.close()


def _poison_hour(store: ArtifactStore, at: int) -> None:
    """A file no reader can parse in ``at``'s hour partition: reading that hour fails."""
    date, hour = _hour(at)
    store.put_bytes(b"no", f"records/deployment={WEB}/date={date}/hour={hour}/part-0-x.parquet")


def _hour(at: int) -> tuple[str, str]:
    from gnomon.monitoring.records import hours

    return next(hours(at, at + 1))


def test_only_the_windows_partitions_are_read(store: ArtifactStore) -> None:
    now = now_ms()
    _poison_hour(store, now - 3 * DAY_MS)  # a broken file outside the window is never opened
    _answer(store, now - HOUR_MS, ["a", "b"], outcomes={"a": 1, "b": 0})
    inputs, outcomes = live_inputs(store, WEB, now - DAY_MS, now + 1, 10, labelled=True)
    assert [row["id"] for row in inputs] == ["a", "b"]
    assert outcomes == [1, 0]
    with pytest.raises(duckdb.Error):  # what reading the broken hour does
        live_inputs(store, WEB, now - 4 * DAY_MS, now + 1, 10, labelled=True)


def test_the_newest_labelled_live_answers_are_kept_oldest_first(store: ArtifactStore) -> None:
    now = now_ms()
    start = now - HOUR_MS
    ids = [f"r{i}" for i in range(6)]
    _answer(store, start, ids, outcomes={rid: i for i, rid in enumerate(ids) if i != 4})
    _answer(store, start, ids, role="shadow")  # the same requests, copied: not live answers
    _answer(store, start - 2 * DAY_MS, ["old"], outcomes={"old": 9})  # before the window
    inputs, outcomes = live_inputs(store, WEB, now - DAY_MS, now + 1, 3, labelled=True)
    assert [row["id"] for row in inputs] == ["r2", "r3", "r5"]  # r4 has no outcome
    assert outcomes == [2, 3, 5]
    unlabelled, none = live_inputs(store, WEB, now - DAY_MS, now + 1, 3, labelled=False)
    assert [row["id"] for row in unlabelled] == ["r3", "r4", "r5"] and none == []


def test_the_latest_outcome_of_a_request_counts(store: ArtifactStore) -> None:
    now = now_ms()
    _answer(store, now - HOUR_MS, ["a"], outcomes={"a": "no"})
    writer = OutcomeWriter(store)
    writer.submit([Outcome("a", now - 1000, WEB, "yes"), Outcome("a", now - 2000, WEB, "maybe")])
    writer.close()
    assert live_inputs(store, WEB, now - DAY_MS, now + 1, 10, labelled=True)[1] == ["yes"]


def test_the_gate_reads_the_windows_labelled_rows(store: ArtifactStore) -> None:
    now = now_ms()
    _poison_hour(store, now - 10 * DAY_MS)
    ids = [f"r{i}" for i in range(5)]
    _answer(store, now - HOUR_MS, ids, outcomes={rid: i % 2 for i, rid in enumerate(ids)})
    gate = GateSpec("label", production_window_s=86_400, min_production_rows=5)
    frame, said = _labelled(store, WEB, gate, now)
    assert frame is not None, said
    assert list(frame.columns) == ["x", "id", "label"]
    assert list(frame["label"]) == [0, 1, 0, 1, 0]
    assert said == "5 labelled records of the last 24 h"
    fewer = GateSpec("label", production_window_s=86_400, min_production_rows=6)
    assert _labelled(store, WEB, fewer, now) == (
        None,
        "5 labelled records in the last 24 h, fewer than the 6 wanted",
    )


def test_the_smoke_sample_is_the_last_days_or_else_the_newest_of_all(
    store: ArtifactStore,
) -> None:
    now = now_ms()
    assert _newest_inputs(store, WEB, 3) == []
    _answer(store, now - 5 * DAY_MS, ["a", "b", "c", "d"])
    assert [row["id"] for row in _newest_inputs(store, WEB, 3)] == ["b", "c", "d"]
    _answer(store, now - HOUR_MS, ["e", "f", "g"])
    _poison_hour(store, now - 5 * DAY_MS)  # a full last day reads nothing older
    assert [row["id"] for row in _newest_inputs(store, WEB, 3)] == ["e", "f", "g"]


def test_a_canarys_outcomes_of_the_next_hour_count(store: ArtifactStore) -> None:
    """A writer whose clock is a little ahead puts an outcome in the next hour's partition."""
    now = now_ms()
    start = now - 10 * 60_000
    records = RecordWriter(store)
    records.submit(
        [
            PredictionRecord(f"c{i}", start + i, WEB, "churn", 2, {"x": i}, 1, 2.0, "canary")
            for i in range(3)
        ]
    )
    records.close()
    ahead = (now // HOUR_MS + 1) * HOUR_MS + 1  # just past the next hour's start
    writer = OutcomeWriter(store)
    writer.submit([Outcome(f"c{i}", ahead, WEB, 1) for i in range(3)])
    writer.close()
    evidence = gather(store, WEB, "churn", 2, start, now + 1)
    assert (evidence.candidate.answered, evidence.candidate.labelled) == (3, 3)
    assert evidence.candidate.metric == 1.0
