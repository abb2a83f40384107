"""Attacks on ``POST /outcomes`` of the model server: a 202 must mean the outcomes will be
written. Each against a real uvicorn on 127.0.0.1, writing to a real local store."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from gnomon.artifacts import LocalArtifactStore
from gnomon.errors import InvalidInput
from gnomon.modelfolder import LoadedModel
from gnomon.predictions.entities import Outcome
from gnomon.predictions.outcomes import MAX_OUTCOMES_PER_REQUEST, MAX_VALUE_DEPTH, check_outcomes
from gnomon.predictions.reading import read_outcomes
from gnomon.predictions.records import OutcomeWriter, RecordWriter
from tests.integration.serving.small_server import row, serve_small


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _outcomes(prefix: str, count: int) -> dict[str, Any]:
    return {"outcomes": [{"request_id": f"{prefix}{i}", "value": i} for i in range(count)]}


def test_more_outcomes_than_a_request_may_carry_are_refused_whole(
    small_model: LoadedModel, tmp_path: Path
) -> None:
    # The reported attack sent 1.5M items, answered 202 while 1.3M were thrown away.
    writer = OutcomeWriter(LocalArtifactStore(tmp_path), interval=3600)
    with serve_small(small_model, outcomes=writer) as url:
        response = httpx.post(url + "/outcomes", json=_outcomes("r", MAX_OUTCOMES_PER_REQUEST + 1))
        assert writer.pending == 0
    assert response.status_code == 422
    assert f"at most {MAX_OUTCOMES_PER_REQUEST} outcomes" in response.json()["error"]["message"]
    assert len(read_outcomes(LocalArtifactStore(tmp_path))) == 0


def test_a_full_queue_answers_503_with_retry_after_and_keeps_what_it_accepted(
    small_model: LoadedModel, tmp_path: Path
) -> None:
    # Before, a request that overflowed the queue was accepted and evicted the oldest
    # outcomes: another client's, already acknowledged with 202.
    store = LocalArtifactStore(tmp_path)
    writer = OutcomeWriter(store, interval=3600, max_queue=10)
    with serve_small(small_model, outcomes=writer) as url:
        first = httpx.post(url + "/outcomes", json=_outcomes("alice", 8))
        overflow = httpx.post(url + "/outcomes", json=_outcomes("mallory", 5))
        assert writer.pending == 8
        fits = httpx.post(url + "/outcomes", json=_outcomes("bob", 2))
    assert (first.status_code, fits.status_code) == (202, 202)
    assert overflow.status_code == 503
    assert int(overflow.headers["retry-after"]) >= 1
    assert overflow.json()["error"]["details"]["retry_after"] >= 1
    written = set(read_outcomes(store)["request_id"])
    assert written == {f"alice{i}" for i in range(8)} | {"bob0", "bob1"}
    assert writer.dropped == 0


BAD_ITEMS = {
    "empty request id": {"request_id": "", "value": 1},
    "no request id": {"value": 1},
    "no value": {"request_id": "r1"},
    "null value": {"request_id": "r1", "value": None},
    "not an object": ["r1", 1],
    "too deep": {"request_id": "r1", "value": _nested(MAX_VALUE_DEPTH + 1)},
}


@pytest.mark.parametrize("case", sorted(BAD_ITEMS))
def test_items_are_checked_exactly_as_the_api_checks_them(
    small_model: LoadedModel, tmp_path: Path, case: str
) -> None:
    item = BAD_ITEMS[case]
    with pytest.raises(InvalidInput) as api:  # what POST /api/v1/.../outcomes answers
        check_outcomes([{"request_id": "ok", "value": 1}, item])
    writer = OutcomeWriter(LocalArtifactStore(tmp_path), interval=3600)
    with serve_small(small_model, outcomes=writer) as url:
        body = {"outcomes": [{"request_id": "ok", "value": 1}, item]}
        response = httpx.post(url + "/outcomes", json=body)
        assert writer.pending == 0  # the good item is not taken either
    assert response.status_code == 422
    assert response.json()["error"]["message"] == api.value.message
    assert re.match(r"outcome 1\b", api.value.message)


def test_a_value_that_cannot_be_written_is_refused_not_dropped_later(
    small_model: LoadedModel, tmp_path: Path
) -> None:
    # A deep value, or an integer beyond 64 bits (read by the NaN-tolerant JSON fallback),
    # used to pass, then fail the whole Parquet file it was batched with, losing every other
    # client's outcomes in it.
    store = LocalArtifactStore(tmp_path)
    writer = OutcomeWriter(store, interval=3600)
    huge = b'{"request_id": "m1", "value": 123456789012345678901234567890, "x": NaN}'
    deep = {"request_id": "m2", "value": _nested(200)}
    with serve_small(small_model, outcomes=writer) as url:
        before = httpx.post(url + "/outcomes", json=_outcomes("alice", 3))
        refused = [
            httpx.post(url + "/outcomes", content=huge),
            httpx.post(url + "/outcomes", json=deep),
        ]
        after = httpx.post(url + "/outcomes", json=_outcomes("bob", 3))
    assert (before.status_code, after.status_code) == (202, 202)
    assert [r.status_code for r in refused] == [422, 400]
    assert "cannot be stored as JSON" in refused[0].json()["error"]["message"]
    assert len(read_outcomes(store)) == 6 and writer.dropped == 0


def test_dropped_prediction_records_are_counted_on_metrics(
    small_model: LoadedModel, tmp_path: Path
) -> None:
    # Records are best-effort telemetry: a full queue drops the oldest, but never silently.
    records = RecordWriter(LocalArtifactStore(tmp_path), interval=3600, max_queue=2)
    with serve_small(small_model, records=records) as url:
        for _ in range(5):
            assert httpx.post(url + "/predict", json=[row()]).status_code == 200
        metrics = httpx.get(url + "/metrics").text
    assert "gnomon_records_dropped_total 3.0" in metrics
    assert records.dropped == 3


def test_an_outcome_past_the_checks_that_cannot_be_written_costs_only_itself(
    small_model: LoadedModel, tmp_path: Path
) -> None:
    # Defence in depth: the checks above refuse what cannot be written, but an item that
    # fails to build used to take its whole batch down: every other client's acknowledged
    # outcomes in it. Now it is dropped alone, logged and counted on /metrics.
    store = LocalArtifactStore(tmp_path)
    writer = OutcomeWriter(store, interval=3600)
    with serve_small(small_model, outcomes=writer) as url:
        alice = httpx.post(url + "/outcomes", json=_outcomes("alice", 3))
        now = int(time.time() * 1000)  # in the hour of the others: one batch with them
        writer.submit([Outcome("\udfff", now, "small-api", 1)])  # injected past the checks
        bob = httpx.post(url + "/outcomes", json=_outcomes("bob", 3))
        with pytest.raises(UnicodeEncodeError):  # flush() reports what it gave up
            writer.flush()
        metrics = httpx.get(url + "/metrics").text
    assert (alice.status_code, bob.status_code) == (202, 202)
    written = set(read_outcomes(store)["request_id"])
    assert written == {f"alice{i}" for i in range(3)} | {f"bob{i}" for i in range(3)}
    assert "gnomon_outcomes_dropped_total 1.0" in metrics
    assert writer.dropped == 1
