"""Rollouts of a deployment served by a real uvicorn under steady load from 16 connections:
the controller steps through the smoke test, two canary steps and the promotion on the
records the server writes, then rolls a second candidate back on the outcomes that come back
for its answers; not one request fails through any of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

import gnomon
from gnomon.automation.entities import Rollout
from gnomon.automation.plans import plan_for
from gnomon.automation.rollouts import RolloutService
from gnomon.automation.spec import Limits, RolloutSpec
from gnomon.automation.wiring import start_loop
from gnomon.config import Settings
from gnomon.serving.loading import ServeOptions, build_app
from tests.fixtures.registry import register_churn_versions
from tests.fixtures.server import run_uvicorn

DEPLOYMENT = "churn-api"
CONNECTIONS = 16


@dataclass
class Load:
    """16 connections posting one-row requests until stopped; every answer kept."""

    url: str
    stop: threading.Event = field(default_factory=threading.Event)
    failures: list[str] = field(default_factory=list)
    answers: list[tuple[str, int, int]] = field(default_factory=list)  # id, version, answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        with httpx.Client(timeout=10) as http:
            while not self.stop.is_set():
                row = {"x": float(rng.normal()), "y": float(rng.normal())}
                try:
                    answer = http.post(f"{self.url}/predict", json={"records": [row]})
                except httpx.HTTPError as exc:
                    self.failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                if answer.status_code != 200:
                    self.failures.append(f"{answer.status_code}: {answer.text[:200]}")
                    continue
                body = answer.json()
                with self.lock:
                    self.answers.append(
                        (body["request_id"], body["model_version"], int(body["predictions"][0]))
                    )


@pytest.fixture
def load(gnomon_home: Path) -> Iterator[Load]:
    client = register_churn_versions(60)
    client.registry.set_alias("churn", "production", 1)
    client.deployments.create(DEPLOYMENT, "churn@production")
    options = ServeOptions(deployment=DEPLOYMENT, poll_seconds=0.1)
    with run_uvicorn(build_app(options, Settings()), lifespan="on") as url:
        running = Load(url)
        threads = [
            threading.Thread(target=running.run, args=(seed,), daemon=True)
            for seed in range(CONNECTIONS)
        ]
        for thread in threads:
            thread.start()
        yield running
        running.stop.set()
        for thread in threads:
            thread.join(timeout=15)


def _until_ended(rollouts: RolloutService, rollout: Rollout, each: Any = None) -> Rollout:
    scope = gnomon.get_client().scope
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if each is not None:
            each()
        rollouts.run_due()
        rollout = rollouts.get(scope, rollout.id)
        if rollout.ended:
            return rollout
        time.sleep(0.3)
    raise AssertionError(f"still {rollout.state}: {rollout.decisions[-1].reason}")


def test_a_rollout_promotes_and_another_rolls_back_with_no_failed_request(load: Load) -> None:
    client = gnomon.get_client()
    services = client._services
    start_loop(services)
    rollouts = services.get(RolloutService)
    spec = RolloutSpec(canary_steps=(10, 50), hold_s=1.5, min_requests=20, smoke_rows=5)
    time.sleep(1.5)  # records to smoke-test with
    plan = plan_for("medium", spec, None, alias="production")
    first = rollouts.start(client.scope, DEPLOYMENT, "churn", 2, plan, {"level": "medium"})
    promoted = _until_ended(rollouts, first)
    assert promoted.state == "promoted", promoted.decisions[-1].reason
    actions = [d.action for d in promoted.decisions]
    assert actions[0] == "start" and actions[-1] == "promote"
    assert actions.count("advance") == 3  # smoke, canary 10%, canary 50%
    canaries = [d for d in promoted.decisions if d.figures.get("candidate")]
    assert all(d.figures["candidate"]["answered"] >= 20 for d in canaries if d.action == "advance")
    assert client.registry.get_version("churn", "production").version == 2
    # Version 1 comes back as a candidate; every answer it gives turns out wrong.
    strict = RolloutSpec(
        canary_steps=(50,), hold_s=30, min_requests=20, limits=Limits(max_metric_drop=0.1)
    )
    second = rollouts.start(
        client.scope, DEPLOYMENT, "churn", 1, plan_for("medium", strict, None), {"level": "medium"}
    )
    told: set[str] = set()

    def outcomes() -> None:
        with load.lock:
            fresh = [a for a in load.answers if a[0] not in told]
        truth = {rid: (1 - answer if version == 1 else answer) for rid, version, answer in fresh}
        if truth:
            client.deployments.log_outcomes(DEPLOYMENT, truth)
            told.update(truth)

    rolled_back = _until_ended(rollouts, second, outcomes)
    assert rolled_back.state == "rolled_back", rolled_back.decisions[-1].reason
    assert "accuracy on outcomes" in rolled_back.decisions[-1].reason
    routing = client.deployments.get(DEPLOYMENT).routing
    assert [(a.ref, a.weight) for a in routing.arms] == [("churn/2", 100)]
    time.sleep(0.5)  # traffic after the last routing change
    load.stop.set()
    assert load.failures == []
    with load.lock:
        versions = {version for _, version, _ in load.answers}
    assert versions == {1, 2} and len(load.answers) > 200
