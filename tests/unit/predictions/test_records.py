from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gnomon.artifacts import ArtifactStore, LocalArtifactStore, open_artifact_store
from gnomon.errors import Conflict, Unavailable
from gnomon.predictions.entities import Outcome, PredictionRecord
from gnomon.predictions.reading import join_outcomes, read_outcomes, read_records
from gnomon.predictions.records import OutcomeWriter, RecordWriter

HOUR_MS = 3_600_000
T0 = 1_700_000_000_000 // HOUR_MS * HOUR_MS  # 2023-11-14 22:00 UTC, on the hour
IDLE = 3600.0  # an interval that never elapses in a test: only flush()/close() write


def record(
    request_id: str, time_ms: int = T0, deployment: str = "churn", **fields: object
) -> PredictionRecord:
    values: dict[str, object] = {
        "model_name": "churn-model",
        "model_version": 3,
        "inputs": {"age": 41, "plan": "pro"},
        "outputs": 0.25,
        "latency_ms": 1.5,
        **fields,
    }
    return PredictionRecord(request_id, time_ms, deployment, **values)  # type: ignore[arg-type]


class FlakyStore(LocalArtifactStore):
    """A real local store whose ``put_bytes`` raises ``failures`` times before it works."""

    def __init__(self, root: Path, failures: int) -> None:
        super().__init__(root)
        self.failures = failures
        self.calls = 0

    def put_bytes(self, data: bytes, key: str) -> None:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise Unavailable("object store unreachable")
        super().put_bytes(data, key)


class BlockingStore(LocalArtifactStore):
    """A real local store whose ``put_bytes`` waits until the test releases it."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.entered = threading.Event()
        self.release = threading.Event()

    def put_bytes(self, data: bytes, key: str) -> None:
        self.entered.set()
        assert self.release.wait(10), "the test never released the store"
        super().put_bytes(data, key)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return LocalArtifactStore(tmp_path / "artifacts")
    s3_server: str = request.getfixturevalue("s3_server")
    s3_root: str = request.getfixturevalue("s3_root")
    return open_artifact_store(s3_root, s3_endpoint_url=s3_server)


@pytest.fixture
def blocking_store(tmp_path: Path) -> Iterator[BlockingStore]:
    store = BlockingStore(tmp_path)
    yield store
    store.release.set()  # a failed test must not leave the writer thread waiting


def part_dirs(store: ArtifactStore, prefix: str) -> set[str]:
    found: set[str] = set()
    for info in store.list(prefix):
        if info.is_dir:
            found |= part_dirs(store, info.path)
        else:
            found.add(info.path.rsplit("/", 1)[0])
    return found


def test_records_land_in_deployment_hour_partitions(store: ArtifactStore) -> None:
    writer = RecordWriter(store, interval=IDLE)
    writer.submit([record("a1", T0 + 5), record("a2", T0 + HOUR_MS + 7)])
    writer.submit([record("b1", T0 + 9, "fraud"), record("b2", T0 + HOUR_MS, "fraud")])
    writer.submit([record("a3", T0 + 1)])
    writer.close()

    assert part_dirs(store, "records") == {
        "records/deployment=churn/date=2023-11-14/hour=22",
        "records/deployment=churn/date=2023-11-14/hour=23",
        "records/deployment=fraud/date=2023-11-14/hour=22",
        "records/deployment=fraud/date=2023-11-14/hour=23",
    }
    churn = read_records(store, deployment="churn")
    assert list(churn["request_id"]) == ["a3", "a1", "a2"]  # sorted by time
    assert set(churn["deployment"]) == {"churn"}
    everything = read_records(store)
    assert sorted(everything["request_id"]) == ["a1", "a2", "a3", "b1", "b2"]
    assert writer.written == 5
    assert (writer.dropped, writer.failed_batches) == (0, 0)


def test_read_records_decodes_columns(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    violations = [{"column": "age", "rule": "max", "value": 200}]
    writer = RecordWriter(store, interval=IDLE)
    writer.submit(
        [
            record("r1", inputs={"age": 200, "tags": ["a", "b"]}, violations=violations),
            record(
                "r2",
                T0 + 1,
                inputs={"age": math.nan},
                outputs=np.array([0.1, 0.9]),
                model_version=None,
                role="shadow",
            ),
        ]
    )
    writer.close()

    frame = read_records(store)
    assert list(frame.columns) == [
        "request_id",
        "time",
        "deployment",
        "model_name",
        "model_version",
        "role",
        "latency_ms",
        "inputs",
        "outputs",
        "violations",
    ]
    first, second = frame.to_dict("records")
    assert first["inputs"] == {"age": 200, "tags": ["a", "b"]}
    assert first["outputs"] == 0.25
    assert first["violations"] == violations
    assert first["model_version"] == 3
    assert first["time"] == pd.Timestamp(T0, unit="ms", tz="UTC")
    assert second["inputs"] == {"age": None}  # JSON has no NaN: orjson writes null
    assert second["outputs"] == [0.1, 0.9]
    assert second["violations"] is None
    assert frame["model_version"].dtype == "Int64"  # nullable: missing versions stay integers
    assert pd.isna(frame["model_version"].iloc[1])
    assert second["role"] == "shadow"
    assert str(frame["time"].dtype) == "datetime64[ms, UTC]"


def test_read_of_an_empty_store_has_the_columns(tmp_path: Path) -> None:
    frame = read_records(LocalArtifactStore(tmp_path))
    assert frame.empty
    assert "request_id" in frame.columns and "inputs" in frame.columns


def test_deployment_names_are_quoted_in_keys(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    writer = RecordWriter(store, interval=IDLE)
    writer.submit([record("r1", deployment="team/churn"), record("r2", deployment="other")])
    writer.close()

    assert part_dirs(store, "records") >= {
        "records/deployment=team%2Fchurn/date=2023-11-14/hour=22"
    }
    assert list(read_records(store, deployment="team/churn")["request_id"]) == ["r1"]


def test_submit_does_no_io(blocking_store: BlockingStore) -> None:
    store = blocking_store
    writer = RecordWriter(store, interval=0.01)
    writer.submit([record("first")])
    assert store.entered.wait(5), "the background writer never started writing"

    # The writer thread is stuck inside put_bytes; submitting must still return at once.
    many = [record(f"r{i}", T0 + i) for i in range(100_000)]
    started = time.perf_counter()
    writer.submit(many)
    elapsed = time.perf_counter() - started

    assert writer.written == 0  # the first write is still blocked
    assert writer.pending == 100_001  # the first is being written: still pending
    assert elapsed < 2.0  # generous: the point is that it returned while the write is blocked
    store.release.set()
    writer.close()
    assert writer.written == 100_001
    assert len(read_records(store)) == 100_001


def test_close_writes_everything_queued(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    writer = RecordWriter(store, interval=IDLE, max_batch=7)
    for start in range(0, 100, 10):
        writer.submit([record(f"r{i}", T0 + i) for i in range(start, start + 10)])
    writer.close()

    assert writer.pending == 0
    assert list(read_records(store)["request_id"]) == [f"r{i}" for i in range(100)]
    writer.close()  # idempotent
    with pytest.raises(Conflict, match="closed"):
        writer.submit([record("late")])


def test_failed_writes_are_retried_and_lose_nothing(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path, failures=3)
    writer = RecordWriter(store, interval=IDLE)
    writer.submit([record(f"r{i}", T0 + i) for i in range(10)])

    for _ in range(3):
        with pytest.raises(Unavailable):
            writer.flush()  # still waiting for a retry: the error surfaces
        assert writer.pending == 10
    writer.flush()

    assert (writer.written, writer.dropped, writer.failed_batches) == (10, 0, 3)
    assert list(read_records(store)["request_id"]) == [f"r{i}" for i in range(10)]
    writer.close()


def test_background_recovery_is_counted_not_raised(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path, failures=3)
    writer = RecordWriter(store, interval=0.01)
    writer.submit([record(f"r{i}", T0 + i) for i in range(10)])
    deadline = time.monotonic() + 10
    while writer.written < 10 and time.monotonic() < deadline:
        time.sleep(0.01)

    writer.close()  # the storage hiccup was recovered from, so shutdown does not raise
    assert (writer.written, writer.dropped, writer.failed_batches) == (10, 0, 3)
    assert len(read_records(store)) == 10


def test_gives_up_after_max_attempts(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path, failures=1_000)
    writer = RecordWriter(store, interval=IDLE, max_attempts=2)
    writer.submit([record("r1"), record("r2")])
    with pytest.raises(Unavailable):
        writer.flush()
    with pytest.raises(Unavailable):
        writer.flush()  # the second attempt fails too: the rows are given up, and counted

    assert (writer.pending, writer.dropped, writer.failed_batches) == (0, 2, 2)
    writer.flush()  # the loss was reported once
    writer.close()


def test_max_queue_drops_the_oldest(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    writer = RecordWriter(store, interval=IDLE, max_queue=5)
    writer.submit([record(f"r{i}", T0 + i) for i in range(3)])
    writer.submit([record(f"r{i}", T0 + i) for i in range(3, 8)])
    assert (writer.pending, writer.dropped) == (5, 3)

    writer.close()
    assert list(read_records(store)["request_id"]) == ["r3", "r4", "r5", "r6", "r7"]


def test_max_queue_also_bounds_rows_awaiting_a_retry(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path, failures=1)
    writer = RecordWriter(store, interval=IDLE, max_queue=5)
    writer.submit([record(f"old{i}", T0 + i) for i in range(4)])
    with pytest.raises(Unavailable):
        writer.flush()
    writer.submit([record(f"new{i}", T0 + 10 + i) for i in range(3)])
    assert (writer.pending, writer.dropped) == (5, 2)

    writer.close()
    ids = list(read_records(store)["request_id"])
    assert ids == ["old2", "old3", "new0", "new1", "new2"]


def test_outcomes_join_records_by_request_id(store: ArtifactStore) -> None:
    records = RecordWriter(store, interval=IDLE)
    records.submit([record(f"r{i}", T0 + i) for i in range(3)])
    records.close()
    outcomes = OutcomeWriter(store, interval=IDLE)
    outcomes.submit(
        [
            Outcome("r0", T0 + HOUR_MS, "churn", 1),
            Outcome("r2", T0 + HOUR_MS, "churn", {"label": "stay"}),
            Outcome("r2", T0 + 2 * HOUR_MS, "churn", {"label": "left"}),  # the latest wins
        ]
    )
    outcomes.close()

    assert part_dirs(store, "outcomes") == {
        "outcomes/deployment=churn/date=2023-11-14/hour=23",
        "outcomes/deployment=churn/date=2023-11-15/hour=00",
    }
    read = read_outcomes(store, deployment="churn")
    assert list(read.columns) == ["request_id", "time", "deployment", "value"]
    joined = join_outcomes(read_records(store), read)
    assert list(joined["request_id"]) == ["r0", "r1", "r2"]
    assert joined["outcome"].tolist()[0] == 1
    assert pd.isna(joined["outcome"].tolist()[1])
    assert joined["outcome"].tolist()[2] == {"label": "left"}
    assert joined["outcome_time"].iloc[2] == pd.Timestamp(T0 + 2 * HOUR_MS, unit="ms", tz="UTC")


def test_records_that_cannot_be_built_are_given_up_at_once(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path, failures=0)
    writer = RecordWriter(store, interval=IDLE)
    writer.submit([record("r1", model_version="three"), record("r2", deployment="fraud")])
    with pytest.raises(ValueError):  # pyarrow's ArrowInvalid: retrying would fail the same way
        writer.flush()

    assert (writer.pending, writer.written, writer.dropped, writer.failed_batches) == (0, 1, 1, 1)
    assert store.calls == 1  # only the good partition reached the store
    assert list(read_records(store)["request_id"]) == ["r2"]
    writer.close()
