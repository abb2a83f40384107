"""The worker's rollout thread when the metadata database goes away: every round fails, is
logged and the next one runs; once the database is back the rollout is stepped again."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

import gnomon
from gnomon.automation.plans import plan_for
from gnomon.automation.rollouts import RolloutService
from gnomon.automation.spec import RolloutSpec
from gnomon.worker.loop import rollouts_round, run_rollouts_forever
from tests.fixtures.monitoring import Served


def _gone(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def test_the_rollout_thread_outlives_a_vanished_database(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    client = served.client
    gnomon.register_model(client.registry.get_version("churn", 1).source, "churn")
    client.deployments.set_route("web", "churn/1")
    rollouts = gnomon.get_client()._services.get(RolloutService)
    rollouts.smoke = lambda scope, rollout: None  # the candidate answers: no model loaded
    plan = plan_for("low", RolloutSpec(), strategy="direct")  # smoke, then all traffic
    rollout = rollouts.start(client.scope, "web", "churn", 2, plan, {"level": "low"})
    db = rollouts.store.db
    path = Path(str(db.engine.url.database))
    away = path.with_name(path.name + ".away")

    db.dispose()
    os.replace(path, away)  # the database vanishes: what opens in its place has no tables
    rounds: list[int] = []
    stop = threading.Event()
    thread = run_rollouts_forever(rollouts, 0.02, stop, lambda done: rounds.append(len(done)))
    deadline = time.monotonic() + 10
    while len(rounds) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert thread.is_alive() and len(rounds) >= 3 and set(rounds) == {0}
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    failed = [r for r in caplog.records if r.getMessage() == "a rollout round failed"]
    assert len(failed) >= 3 and failed[0].exc_info is not None

    db.dispose()
    _gone(path)
    os.replace(away, path)  # back
    [stepped] = rollouts_round(rollouts, None)
    assert stepped.id == rollout.id and stepped.state == "promoted"
    assert [(a.ref, a.weight) for a in client.deployments.get("web").routing.arms] == [
        ("churn/2", 100)
    ]
