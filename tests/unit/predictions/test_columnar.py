"""RecordWriter.submit_request: whole requests turned into records on the writer thread.

The reference is the record path (``submit`` of records built row by row, as the server
once did), so each test states that both paths write the same thing.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gnomon.artifacts import ArtifactStore, LocalArtifactStore
from gnomon.errors import Conflict, Unavailable
from gnomon.modelfolder import ColumnSpec, Contract
from gnomon.predictions.entities import AnsweredRequest, PredictionRecord
from gnomon.predictions.reading import read_records
from gnomon.predictions.records import RECORD_COLUMNS, RecordWriter
from gnomon.serving.enforce import Policy, enforce
from gnomon.serving.inputs import parse_body
from tests.unit.predictions.test_records import FlakyStore, part_dirs

HOUR_MS = 3_600_000
T0 = 1_700_000_000_000 // HOUR_MS * HOUR_MS  # 2023-11-14 22:00 UTC
IDLE = 3600.0  # only flush()/close() write

CONTRACT = Contract(
    inputs=[
        ColumnSpec("hour", "int64", minimum=0, maximum=23),
        ColumnSpec("temp", "float64", nullable=True),
        ColumnSpec("city", "category", categories=["lyon", "oslo"]),
        ColumnSpec("name", "string", nullable=True),
        ColumnSpec("flag", "bool", nullable=True),
        ColumnSpec("day", "datetime", nullable=True),
    ]
)


def old_records(
    request_id: str,
    time_ms: int,
    deployment: str,
    frame: pd.DataFrame,
    values: list[Any],
    latency_ms: float,
    violations: list[dict[str, Any]] | None,
    role: str = "primary",
) -> list[PredictionRecord]:
    """The row-by-row builder the server used before ``submit_request``."""
    rows = frame.to_dict(orient="records")
    found = violations or []
    return [
        PredictionRecord(
            request_id=request_id if len(rows) == 1 else f"{request_id}:{index}",
            time_ms=time_ms,
            deployment=deployment,
            model_name="churn-model",
            model_version=3,
            role=role,
            inputs=row,
            outputs=value,
            latency_ms=latency_ms / max(len(rows), 1),
            violations=[v for v in found if v["row"] == index] or None,
        )
        for index, (row, value) in enumerate(zip(rows, values, strict=True))
    ]


Answer = tuple[str, int, str, pd.DataFrame, list[Any], float, list[dict[str, Any]] | None]


def write_both(tmp_path: Path, answers: list[Answer]) -> tuple[ArtifactStore, ArtifactStore]:
    """The same answers through the record path and the request path, in two stores."""
    old, new = LocalArtifactStore(tmp_path / "old"), LocalArtifactStore(tmp_path / "new")
    old_writer, new_writer = RecordWriter(old, interval=IDLE), RecordWriter(new, interval=IDLE)
    for request_id, time_ms, deployment, frame, values, latency, violations in answers:
        old_writer.submit(
            old_records(request_id, time_ms, deployment, frame, values, latency, violations)
        )
        answered = AnsweredRequest(
            request_id, time_ms, deployment, "churn-model", 3, "primary",
            frame, values, latency, violations,
        )  # fmt: skip
        new_writer.submit_request(answered)
    old_writer.close()
    new_writer.close()
    assert new_writer.written == old_writer.written
    assert new_writer.dropped == 0
    return old, new


def raw_table(store: ArtifactStore) -> pa.Table:
    """Every file's rows as stored, in request id order: the JSON texts compared byte for byte
    (the record columns only: requests also store typed copies of their inputs, see below)."""
    keys: list[str] = []
    pending = ["records"]
    while pending:
        for info in store.list(pending.pop()):
            (pending if info.is_dir else keys).append(info.path)
    columns = list(RECORD_COLUMNS)
    tables = (pq.read_table(io.BytesIO(store.get_bytes(k)), columns=columns) for k in keys)
    return pa.concat_tables(tables).sort_by("request_id")


def assert_same(old: ArtifactStore, new: ArtifactStore) -> None:
    assert raw_table(new).equals(raw_table(old))
    assert part_dirs(new, "records") == part_dirs(old, "records")
    by_id = ["request_id"]
    expected = read_records(old).sort_values(by_id, ignore_index=True)
    pd.testing.assert_frame_equal(read_records(new).sort_values(by_id, ignore_index=True), expected)


def enforced(records: list[dict[str, Any]]) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """A request as the server checks it: parsed, then cast under the warn policy."""
    frame, violations = enforce(
        parse_body(orjson.dumps({"records": records}), None, None), CONTRACT, Policy.WARN
    )
    return frame, [
        {"row": v.row, "column": v.column, "problem": v.problem, "expected": v.expected}
        for v in violations
    ]


def mixed_frame(rows: int) -> pd.DataFrame:
    """Every dtype a frame may hold, with missing values, as built outside the contract."""
    frame = pd.DataFrame(
        {
            "n": np.arange(rows, dtype=np.int64) * 7,
            "x": np.where(np.arange(rows) % 2 == 0, np.nan, np.arange(rows) / 3),
            "s": pd.array([None if i % 3 == 0 else f"s{i}" for i in range(rows)], dtype="str"),
            "b": np.arange(rows) % 2 == 0,
            "c": pd.Categorical([("lo", "hi", None)[i % 3] for i in range(rows)]),
            "t": pd.to_datetime([None if i % 2 else f"2024-01-{i + 1:02d}" for i in range(rows)]),
            "o": [(1, "two", None, 2.5, np.float32(0.1), np.int64(9))[i % 6] for i in range(rows)],
            "u": np.arange(rows, dtype=np.uint8),
            "f32": np.linspace(0, 1, rows, dtype=np.float32),
        }
    )
    frame["nullable"] = pd.array([None if i % 2 else i for i in range(rows)], dtype="Int64")
    return frame


def test_mixed_dtypes_match_the_record_path(tmp_path: Path) -> None:
    answers: list[Answer] = [
        ("one", T0 + 1, "churn", mixed_frame(1), [0.5], 2.0, None),
        ("many", T0 + 2, "churn", mixed_frame(7), [float(i) for i in range(7)], 7.0, None),
        ("ints", T0 + 3, "churn", pd.DataFrame({"a": [1, 2], "b": [3, 4]}), [1, 0], 1.0, None),
        ("floats", T0 + 4, "churn", pd.DataFrame({"a": [np.nan, np.inf]}), [None, "x"], 1, None),
        ("objects", T0 + 5, "churn", pd.DataFrame([{"a": [1, 2], "b": {"k": 1}}]), [{}], 1, None),
    ]
    assert_same(*write_both(tmp_path, answers))


def test_enforced_requests_with_violations_match_the_record_path(tmp_path: Path) -> None:
    good = {"hour": 5, "temp": 21.5, "city": "lyon", "name": "a", "flag": True, "day": "2024-05-01"}
    bad = {"hour": 99, "temp": None, "city": "rome", "name": 3, "flag": "yes", "day": "soon"}
    answers: list[Answer] = []
    for index, records in enumerate([[good], [bad], [good, bad, good], [bad, bad]]):
        frame, violations = enforced(records)
        assert violations or bad not in records
        outputs = [[0.25, 0.75]] * len(records)  # predict_proba rows
        answers.append((f"r{index}", T0 + index, "churn", frame, outputs, 3.0, violations))
    assert_same(*write_both(tmp_path, answers))
    read = read_records(LocalArtifactStore(tmp_path / "new"))
    by_id = dict(zip(read["request_id"], read["violations"], strict=True))
    assert by_id["r0"] is None
    assert by_id["r2:0"] is None and by_id["r2:2"] is None
    assert {v["column"] for v in by_id["r2:1"]} >= {"hour", "city", "flag"}
    assert all(v["row"] == 1 for v in by_id["r2:1"])


def test_different_columns_and_partitions_in_one_batch(tmp_path: Path) -> None:
    shared = pd.Index([f"f{i}" for i in range(3)])  # enforce hands out one Index per contract
    answers: list[Answer] = [
        (f"f{i}", T0 + i, "churn", pd.DataFrame([[i, 1.5, 2]], columns=shared), [i], 1.0, None)
        for i in range(5)
    ]
    answers += [
        ("other", T0 + 9, "churn", pd.DataFrame({"z": ["x"], "f0": [1.0]}), [1], 1.0, None),
        ("later", T0 + HOUR_MS, "churn", mixed_frame(2), [1, 2], 1.0, None),
        ("fraud", T0 + 3, "fraud", mixed_frame(1), [1], 1.0, None),
    ]
    old, new = write_both(tmp_path, answers)
    assert_same(old, new)
    assert len(part_dirs(new, "records")) == 3


def test_array_outputs_and_row_ids(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    writer = RecordWriter(store, interval=IDLE)
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    writer.submit_request(
        AnsweredRequest("r", T0, "churn", "m", None, "shadow", frame, np.eye(3)[:, :2], 9.0)
    )
    writer.submit_request(
        AnsweredRequest("s", T0, "churn", "m", 2, "primary", frame.iloc[:1], np.array([7]), 1.0)
    )
    writer.close()

    read = read_records(store).sort_values("request_id", ignore_index=True)
    assert list(read["request_id"]) == ["r:0", "r:1", "r:2", "s"]
    assert list(read["outputs"]) == [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], 7]
    assert list(read["latency_ms"]) == [3.0, 3.0, 3.0, 1.0]
    assert list(read["role"]) == ["shadow", "shadow", "shadow", "primary"]
    assert read["model_version"].isna().tolist() == [True, True, True, False]
    assert set(read["time"]) == {pd.Timestamp(T0, unit="ms", tz="UTC")}


def test_submitting_does_no_work_on_the_frame(tmp_path: Path) -> None:
    class Watched(pd.DataFrame):
        converted = 0

        def to_numpy(self, *args: Any, **kwargs: Any) -> Any:
            Watched.converted += 1
            return super().to_numpy(*args, **kwargs)

    store = LocalArtifactStore(tmp_path)
    writer = RecordWriter(store, interval=IDLE)
    writer.submit_request(
        AnsweredRequest("r", T0, "churn", "m", 1, "primary", Watched({"a": [1.0]}), [1], 1.0)
    )
    bad = Watched({"a": [1.0]})
    writer.submit_request(AnsweredRequest("bad", T0, "churn", "m", 1, "primary", bad, [1, 2], 1.0))
    assert Watched.converted == 0  # nothing is built, nor checked, on the caller's side
    assert writer.pending == 3  # rows are counted from the outputs
    writer.close()
    assert Watched.converted == 1  # the bad request (an output too many) is dropped alone
    assert (writer.written, writer.dropped) == (1, 2)
    assert list(read_records(store)["request_id"]) == ["r"]


def test_empty_frames_are_not_queued(tmp_path: Path) -> None:
    writer = RecordWriter(LocalArtifactStore(tmp_path), interval=IDLE)
    writer.submit_request(
        AnsweredRequest("r", T0, "churn", "m", 1, "primary", pd.DataFrame({"a": []}), [], 1.0)
    )
    assert writer.pending == 0
    writer.close()
    assert writer.written == 0


def test_max_queue_counts_rows_and_drops_the_oldest(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    writer = RecordWriter(store, interval=IDLE, max_queue=5)
    three, four = pd.DataFrame({"a": [0, 1, 2]}), pd.DataFrame({"a": [0, 1, 2, 3]})
    writer.submit_request(
        AnsweredRequest("a", T0, "churn", "m", 1, "primary", three, [0, 1, 2], 3.0)
    )
    writer.submit_request(
        AnsweredRequest("b", T0 + 1, "churn", "m", 1, "primary", four, [0, 1, 2, 3], 4.0)
    )
    assert (writer.pending, writer.dropped) == (5, 2)

    writer.close()
    read = read_records(store)
    assert list(read["request_id"]) == ["a:2", "b:0", "b:1", "b:2", "b:3"]
    assert read["inputs"].iloc[0] == {"a": 2} and read["outputs"].iloc[0] == 2
    assert read["latency_ms"].iloc[0] == 1.0  # still a third of the request's latency


def test_max_queue_also_bounds_requests_behind_a_failed_write(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path, failures=1)
    writer = RecordWriter(store, interval=IDLE, max_queue=5)
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    writer.submit_request(
        AnsweredRequest("old", T0, "churn", "m", 1, "primary", frame, [0, 1, 2, 3], 1.0)
    )
    with pytest.raises(Unavailable):
        writer.flush()
    writer.submit_request(
        AnsweredRequest("new", T0 + 1, "churn", "m", 1, "primary", frame.iloc[:3], [0] * 3, 1)
    )
    assert (writer.pending, writer.dropped) == (5, 2)

    writer.close()
    assert list(read_records(store)["request_id"]) == ["old:2", "old:3", "new:0", "new:1", "new:2"]


def test_closed_writer_refuses_requests(tmp_path: Path) -> None:
    writer = RecordWriter(LocalArtifactStore(tmp_path), interval=IDLE)
    writer.close()
    with pytest.raises(Conflict, match="closed"):
        writer.submit_request(
            AnsweredRequest("r", T0, "churn", "m", 1, "primary", pd.DataFrame({"a": [1]}), [1], 1)
        )


def test_failed_writes_are_retried_and_lose_nothing(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path, failures=3)
    writer = RecordWriter(store, interval=IDLE)
    for i in range(10):
        frame = pd.DataFrame({"a": [float(i)]})
        writer.submit_request(
            AnsweredRequest(f"r{i}", T0 + i, "churn", "m", 1, "primary", frame, [i], 1.0)
        )

    for _ in range(3):
        with pytest.raises(Unavailable):
            writer.flush()  # still waiting for a retry: the error surfaces
        assert writer.pending == 10
    writer.flush()

    assert (writer.written, writer.dropped, writer.failed_batches) == (10, 0, 3)
    assert list(read_records(store)["request_id"]) == [f"r{i}" for i in range(10)]
    writer.close()


def test_gives_up_after_max_attempts(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path, failures=1_000)
    writer = RecordWriter(store, interval=IDLE, max_attempts=2)
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    writer.submit_request(AnsweredRequest("r", T0, "churn", "m", 1, "primary", frame, [1, 2], 1.0))
    for _ in range(2):
        with pytest.raises(Unavailable):
            writer.flush()

    assert (writer.pending, writer.dropped, writer.failed_batches) == (0, 2, 2)
    writer.flush()  # the loss was reported once
    writer.close()


def test_close_writes_every_request_in_batches(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    writer = RecordWriter(store, interval=IDLE, max_batch=7)
    for i in range(40):
        frame = pd.DataFrame({"a": [i, i]})
        writer.submit_request(
            AnsweredRequest(f"r{i:02d}", T0 + i, "churn", "m", 1, "primary", frame, [0, 1], 1)
        )
    writer.close()

    assert (writer.pending, writer.written) == (0, 80)
    assert len(read_records(store)) == 80


def test_a_full_batch_wakes_the_writer(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    writer = RecordWriter(store, interval=IDLE, max_batch=4)
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    writer.submit_request(AnsweredRequest("a", T0, "churn", "m", 1, "primary", frame, [1, 2], 1.0))
    writer.submit_request(AnsweredRequest("b", T0, "churn", "m", 1, "primary", frame, [1, 2], 1.0))
    deadline = time.monotonic() + 10
    while writer.written < 4 and time.monotonic() < deadline:
        time.sleep(0.01)

    assert (writer.written, writer.pending) == (4, 0)  # written before any flush()
    writer.close()


def test_requests_store_a_typed_copy_of_each_input_beside_the_json(tmp_path: Path) -> None:
    answers: list[Answer] = [
        (
            "a",
            T0 + 1,
            "churn",
            pd.DataFrame({"x": [1.5, np.nan], "city": ["lyon", "oslo"]}),
            [1, 0],
            1.0,
            None,
        ),
        ("b", T0 + 2, "churn", pd.DataFrame({"x": [2.0], "n": [7]}), [1], 1.0, None),
        # a warn-policy request whose "city" is a number: no typed city in this batch
        ("c", T0 + 3, "churn", pd.DataFrame({"x": [3.0], "city": [5]}), [0], 1.0, None),
    ]
    _, new = write_both(tmp_path, answers)
    (key,) = [i.path for i in _files(new)]
    table = pq.read_table(io.BytesIO(new.get_bytes(key))).sort_by("request_id")
    assert table.column("in.x").to_pylist() == [1.5, None, 2.0, 3.0]  # NaN: null, as in JSON
    assert table.column("in.n").to_pylist() == [None, None, 7, None]
    assert "in.city" not in table.column_names  # mixed text and numbers: the JSON alone
    decoded = [orjson.loads(t) for t in table.column("inputs").to_pylist()]
    assert [d.get("x") for d in decoded] == [1.5, None, 2.0, 3.0]


def _files(store: ArtifactStore) -> list[Any]:
    found, pending = [], ["records"]
    while pending:
        for info in store.list(pending.pop()):
            (pending.append(info.path) if info.is_dir else found.append(info))
    return found
