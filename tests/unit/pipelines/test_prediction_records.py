"""Finding a request id's records among the partitions model servers write, locally and on
S3: the row ids of a request of several, shadow copies, the deployment and time hints."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnomon.artifacts import open_artifact_store
from gnomon.artifacts.store import ArtifactStore
from gnomon.errors import InvalidInput
from gnomon.pipelines import prediction_records
from gnomon.pipelines.prediction_records import check_request_id, find_records, record_files
from gnomon.predictions.entities import PredictionRecord
from gnomon.predictions.records import RecordWriter

HOUR = 3_600_000
BASE = 1_714_564_800_000  # 2024-05-01T12:00Z


def _record(
    request_id: str, hour: int, deployment: str = "web", **extra: object
) -> PredictionRecord:
    fields: dict[str, object] = {
        "request_id": request_id,
        "time_ms": BASE + hour * HOUR + 5,
        "deployment": deployment,
        "model_name": "churn",
        "model_version": 1,
        "inputs": {"x": hour},
        "outputs": hour * 10,
        "latency_ms": 2.5,
        **extra,
    }
    return PredictionRecord(**fields)  # type: ignore[arg-type]


def _write(store: ArtifactStore, *batches: list[PredictionRecord]) -> None:
    """Each batch a file of its own, as a server writes one per flush."""
    for batch in batches:
        writer = RecordWriter(store)
        writer.submit(batch)
        writer.close()


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    found = open_artifact_store(str(tmp_path / "predictions"))
    _write(
        found,
        [_record("a", 0), _record("other", 0)],
        [_record("rows:0", 1), _record("rows:1", 1), _record("rows:10", 1), _record("rows:2", 1)],
        # A shadow answered the same request: its copy must not hide what the caller got.
        [_record("a", 0, role="shadow", model_version=3, outputs=7)],
        [_record("late", 5, deployment="batch-api")],
        [_record("rows:x", 2), _record("rowsy:0", 2)],  # not rows of "rows"
    )
    return found


def test_an_exact_id_is_the_callers_answer_with_the_shadow_copy_after(store: ArtifactStore) -> None:
    found = find_records(store, "a")
    assert found is not None and found.ids == 1
    assert [(r.role, r.model_version, r.outputs) for r in found.records] == [
        ("primary", 1, 0),
        ("shadow", 3, 7),
    ]
    first = found.records[0]
    assert (first.time_ms, first.inputs, first.latency_ms, first.deployment) == (
        BASE + 5,
        {"x": 0},
        2.5,
        "web",
    )


def test_a_bare_id_of_several_rows_is_row_zero_and_counts_only_its_rows(
    store: ArtifactStore,
) -> None:
    found = find_records(store, "rows")
    assert found is not None
    assert (found.records[0].request_id, found.ids) == ("rows:0", 4)
    exact = find_records(store, "rows:10")
    assert exact is not None and exact.records[0].outputs == 10 and exact.ids == 1


def test_the_deployment_and_time_hints_narrow_the_search(store: ArtifactStore) -> None:
    assert len(record_files(store)) == 5
    assert find_records(store, "late", "web") is None
    assert find_records(store, "late", "batch-api") is not None
    assert find_records(store, "late", "no-such-deployment") is None
    assert find_records(store, "late", since_ms=BASE + 5 * HOUR) is not None
    assert find_records(store, "late", until_ms=BASE + 5 * HOUR) is None
    assert record_files(store, since_ms=BASE + HOUR, until_ms=BASE + 2 * HOUR) == [
        f for f in record_files(store) if "hour=13" in f
    ]
    assert find_records(store, "nope") is None
    assert find_records(open_artifact_store(str(Path(store.uri("")) / "empty")), "a") is None


def test_a_search_past_the_file_limit_is_refused_until_narrowed(
    store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Unbounded, one caller's search of a busy workspace (a file a second per server) read
    # every file it ever wrote, for minutes, holding a server thread.
    monkeypatch.setattr(prediction_records, "MAX_FILES", 3)
    with pytest.raises(InvalidInput, match="over 3 prediction record files; narrow it"):
        find_records(store, "a")
    assert find_records(store, "late", "batch-api") is not None  # one file
    narrowed = find_records(store, "a", since_ms=BASE, until_ms=BASE + HOUR)  # two files
    assert narrowed is not None and narrowed.records[0].outputs == 0
    with pytest.raises(InvalidInput, match="over 4 prediction record files"):
        record_files(store, limit=4)
    assert len(record_files(store, limit=5)) == 5


@pytest.mark.parametrize(
    ("request_id", "problem"),
    [
        ("x" * 257, "1 to 256 characters"),
        ("", "1 to 256 characters"),
        ("a\nb", "control"),
        ("a\x1b[2Jb", "control"),
        ("a\x00", "control"),
        ("ok/../x", "path step"),
        (42, "1 to 256 characters"),
    ],
)
def test_hostile_request_ids_are_refused(request_id: object, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        check_request_id(request_id)


def test_quotes_and_sql_in_a_request_id_are_only_text(store: ArtifactStore) -> None:
    _write(store, [_record("x' OR '1'='1", 3), _record("50%_off", 3)])
    found = find_records(store, "x' OR '1'='1")
    assert found is not None and found.records[0].inputs == {"x": 3}
    assert find_records(store, "50%") is None  # never a LIKE pattern


@pytest.mark.s3
def test_records_on_s3_are_found_the_same_way(
    s3_server: str, s3_root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = open_artifact_store(f"{s3_root}/predictions", s3_endpoint_url=s3_server)
    _write(remote, [_record("rows:0", 0), _record("rows:1", 0)], [_record("b", 1)])
    found = find_records(remote, "rows")
    assert found is not None and (found.records[0].request_id, found.ids) == ("rows:0", 2)
    only = find_records(remote, "b", "web", since_ms=BASE + HOUR)
    assert only is not None and only.records[0].outputs == 10
    assert find_records(remote, "b", until_ms=BASE + HOUR) is None
    # Fetched whole, one by one: a lower limit than local files'.
    monkeypatch.setattr(prediction_records, "MAX_FETCHED_FILES", 1)
    with pytest.raises(InvalidInput, match="over 1 prediction record files"):
        find_records(remote, "b")
    assert find_records(remote, "b", since_ms=BASE + HOUR) is not None
