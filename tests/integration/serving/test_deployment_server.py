"""A deployment served by a real uvicorn on 127.0.0.1: canary split, A/B stickiness, shadows,
and routing changes picked up without a restart."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

import gnomon
from gnomon.config import Settings
from gnomon.serving.loading import ServeOptions, build_app
from tests.fixtures.registry import register_churn_versions
from tests.fixtures.server import run_uvicorn
from tests.fixtures.workers import scraped

DEPLOYMENT = "churn-api"
ROW = {"x": 1.0, "y": 0.5}


class SlowModel:
    """A pyfunc shadow that takes 200 ms a call: its time must never reach the caller."""

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        time.sleep(0.2)
        return np.full(len(frame), 7)


class WholeBatchModel:
    """Answers depend on the whole call (a per-batch normalisation): must not be batched."""

    batchable = False

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return (frame["x"] - frame["x"].mean()).to_numpy()


@pytest.fixture
def versions(gnomon_home: Path) -> gnomon.Client:
    """Model ``churn`` with versions 1 and 2 (1 is @production), and a deployment of it."""
    client = register_churn_versions(60)
    client.registry.set_alias("churn", "production", 1)
    client.deployments.create(DEPLOYMENT, "churn@production")
    return client


@pytest.fixture
def server(versions: gnomon.Client, tmp_path: Path) -> Iterator[str]:
    options = ServeOptions(deployment=DEPLOYMENT, poll_seconds=0.1)
    with run_uvicorn(build_app(options, Settings()), lifespan="on") as url:
        yield url


def _predict(url: str, client: httpx.Client | None = None, **kwargs: Any) -> httpx.Response:
    body = kwargs.pop("json", {"records": [ROW]})
    answer = (client or httpx).post(f"{url}/predict", json=body, **kwargs)
    assert answer.status_code == 200, answer.text
    return answer


def _wait_for_revision(url: str, revision: int) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        schema = httpx.get(f"{url}/schema").json()
        if schema["revision"] >= revision:
            return schema
        time.sleep(0.05)
    raise AssertionError(f"the server did not pick up revision {revision}")


def test_a_routing_change_is_picked_up_without_a_restart(versions, server) -> None:  # type: ignore[no-untyped-def]
    assert _predict(server).json()["model_version"] == 1
    changed = versions.deployments.set_route(DEPLOYMENT, "churn/2")  # a direct rollout
    _wait_for_revision(server, changed.revision)
    answer = _predict(server)
    assert answer.json()["model_version"] == 2 and answer.headers["x-model-version"] == "2"
    back = versions.deployments.rollback(DEPLOYMENT)
    _wait_for_revision(server, back.revision)
    assert _predict(server).json()["model_version"] == 1


def test_a_moved_alias_is_followed(versions, server) -> None:  # type: ignore[no-untyped-def]
    versions.registry.set_alias("churn", "production", 2)
    deadline = time.monotonic() + 15
    while _predict(server).json()["model_version"] != 2:
        assert time.monotonic() < deadline, "the server kept answering with version 1"
        time.sleep(0.05)


def test_a_canary_takes_its_share_of_requests(versions, server) -> None:  # type: ignore[no-untyped-def]
    changed = versions.deployments.set_route(DEPLOYMENT, "churn/2", canary=20)
    schema = _wait_for_revision(server, changed.revision)
    assert {(a["role"], a["version"], a["weight"]) for a in schema["arms"]} == {
        ("primary", 1, 80),
        ("canary", 2, 20),
    }
    n = 1000
    with httpx.Client() as client:
        served = [_predict(server, client).json()["model_version"] for _ in range(n)]
    share = served.count(2) / n
    # Binomial(1000, 0.2): standard deviation 0.0126; five of them is a test that never flakes.
    assert abs(share - 0.2) < 5 * (0.2 * 0.8 / n) ** 0.5, share
    assert set(served) == {1, 2}
    # Each arm's predict time, once per request it answered.
    for role, version in (("primary", 1), ("canary", 2)):
        arm = {"model": "churn", "version": str(version), "role": role}
        timed = scraped(f"{server}/metrics", "gnomon_prediction_seconds_count", arm)
        assert timed == served.count(version), (role, timed)


def test_an_ab_split_is_sticky_per_key(versions, server) -> None:  # type: ignore[no-untyped-def]
    changed = versions.deployments.set_route(DEPLOYMENT, "churn/2", ab_key="user_id")
    _wait_for_revision(server, changed.revision)
    arms: dict[str, set[int]] = {}
    with httpx.Client() as client:
        for user in range(100):
            for _ in range(3):  # the key as a field of the record: not a model input
                body = {"records": [{**ROW, "user_id": f"u{user}"}]}
                version = _predict(server, client, json=body).json()["model_version"]
                arms.setdefault(f"u{user}", set()).add(version)
            # ...and as a header: the same user, the same arm
            by_header = _predict(server, client, headers={"user_id": f"u{user}"})
            arms[f"u{user}"].add(by_header.json()["model_version"])
    assert all(len(got) == 1 for got in arms.values()), "a user saw both arms"
    on_two = sum(1 for got in arms.values() if got == {2})
    assert 25 <= on_two <= 75, on_two  # 50% of 100 users, within five standard deviations
    # Without the key a request goes to the primary.
    assert {_predict(server).json()["model_version"] for _ in range(20)} == {1}


def test_shadow_answers_are_recorded_never_returned_and_add_no_latency(  # type: ignore[no-untyped-def]
    versions, tmp_path
) -> None:
    frame = pd.DataFrame({"x": [-5.0, 5.0], "y": [-5.0, 5.0]})  # a contract ROW is inside
    with gnomon.start_run():
        uri = gnomon.log_model(SlowModel(), "model", input_example=frame)
    gnomon.register_model(uri, "churn")  # version 3
    options = ServeOptions(deployment=DEPLOYMENT, poll_seconds=0.1)
    settings = Settings()
    app = build_app(options, settings)
    with run_uvicorn(app, lifespan="on") as url, httpx.Client() as client:
        _predict(url, client)  # warm up
        alone = _latencies(url, client)
        changed = versions.deployments.set_route(DEPLOYMENT, "churn/3", shadow=True)
        _wait_for_revision(url, changed.revision)
        answers = [_predict(url, client) for _ in range(10)]
        shadowed = _latencies(url, client)
        timed = _shadow_timings(url)
    assert {a.json()["model_version"] for a in answers} == {1}
    assert all(a.json()["predictions"] != [7] for a in answers)
    # The shadow sleeps 200 ms per call; the primary must not wait for it.
    assert statistics.median(shadowed) < statistics.median(alone) + 0.05, (alone, shadowed)
    records = versions.deployments.records(DEPLOYMENT, with_outcomes=False)  # as served
    shadow_rows = records[records["role"] == "shadow"]
    ids = {a.json()["request_id"] for a in answers}
    assert ids <= set(shadow_rows["request_id"])  # every copy answered and recorded on shutdown
    assert set(shadow_rows["model_version"]) == {3} and set(shadow_rows["outputs"]) == {7}
    primary_rows = records[records["request_id"].isin(ids) & (records["role"] == "primary")]
    assert len(primary_rows) == len(ids)
    # The shadow's own predict time, its 200 ms sleep included: never in the 0.1 s bucket.
    assert timed["count"] >= 1 and timed["le_0.1"] == 0


def test_models_that_decline_batching_are_not_batched(versions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    frame = pd.DataFrame({"x": [0.1, 0.2], "y": [0.3, 0.4]})
    with gnomon.start_run():
        uri = gnomon.log_model(WholeBatchModel(), "model", input_example=frame)
    gnomon.register_model(uri, "whole")
    versions.deployments.create("whole-api", "whole/1")
    options = ServeOptions(deployment="whole-api")
    with run_uvicorn(build_app(options, Settings()), lifespan="on") as url:
        assert [a["batched"] for a in httpx.get(f"{url}/schema").json()["arms"]] == [False]
    options = ServeOptions(deployment=DEPLOYMENT)
    with run_uvicorn(build_app(options, Settings()), lifespan="on") as url:
        assert [a["batched"] for a in httpx.get(f"{url}/schema").json()["arms"]] == [True]


def test_an_unknown_deployment_fails_at_start(gnomon_home: Path) -> None:
    from gnomon.errors import NotFound

    with pytest.raises(NotFound, match="deployment 'nope' not found"):
        build_app(ServeOptions(deployment="nope"), Settings())


def _shadow_timings(url: str) -> dict[str, float]:
    """The shadow arm's predict-time histogram once it has answered some copy."""
    shadow = {"model": "churn", "version": "3", "role": "shadow"}
    deadline = time.monotonic() + 15
    while (count := scraped(f"{url}/metrics", "gnomon_prediction_seconds_count", shadow)) < 1:
        assert time.monotonic() < deadline, "the shadow's predict time was never observed"
        time.sleep(0.05)
    below = scraped(f"{url}/metrics", "gnomon_prediction_seconds_bucket", {**shadow, "le": "0.1"})
    return {"count": count, "le_0.1": below}


def _latencies(url: str, client: httpx.Client, n: int = 15) -> list[float]:
    took = []
    for _ in range(n):
        started = time.perf_counter()
        _predict(url, client)
        took.append(time.perf_counter() - started)
    return took
