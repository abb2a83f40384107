"""The demo's closed loop, no human step: a model trained on small tumours serves; the
traffic drifts to large ones; the monitor alerts; the policy retrains on the newest data;
the gate compares the candidate with the champion on the holdout and on the labelled
production records; the change's risk picks a canary; the controller promotes it on live
evidence. Then a bad candidate is rolled out and rolled back on the outcomes of its answers.

Traffic runs from 8 connections the whole time, its ground truth posted as answers come
back, so every decision reads what the model server recorded; the two times the issue asks
for are measured: first drifted window → promoted, and bad canary's first window → rollback.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import gnomon
from gnomon.demo_loop_flow import DATASET, MODEL, TARGET, loop_run

DEPLOYMENT = "demo-loop-api"
MONITOR = "demo-loop-drift"
POLICY = "demo-retrain-on-drift"
HOLDOUT = "demo-loop-holdout"
CONNECTIONS = 8
SMALL = 0.5  # the champion knows tumours up to this quantile of radius
WINDOW_ROWS = 100


@dataclass(frozen=True, slots=True)
class LoopDemo:
    firing: dict[str, Any]  # status, gate, risk of the policy's retraining
    promoted: dict[str, Any]  # the rollout: candidate, stages, decisions
    rolled_back: dict[str, Any]  # the bad candidate's rollout
    drift_to_promotion_s: float
    canary_to_rollback_s: float
    requests: int
    failed: int


@dataclass
class _Traffic:
    """Rows posted from ``CONNECTIONS`` threads while the block runs, each answer's truth
    posted back; leaving the block (an error included) stops and joins them."""

    url: str
    rows: list[tuple[dict[str, Any], int]]  # (record, truth): swapped whole, never half
    stop: threading.Event = field(default_factory=threading.Event)
    sent: int = 0
    failed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> _Traffic:
        self.threads = [
            threading.Thread(target=self.run, args=(i,), daemon=True, name=f"demo-traffic-{i}")
            for i in range(CONNECTIONS)
        ]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def run(self, start: int) -> None:
        import httpx

        i = start
        with httpx.Client(timeout=30) as http:
            while not self.stop.is_set():
                rows = self.rows  # swapped when traffic drifts
                row, label = rows[i % len(rows)]
                i += CONNECTIONS
                try:
                    answer = http.post(f"{self.url}/predict", json={"records": [row]})
                    ok = answer.status_code == 200
                except httpx.HTTPError:
                    ok = False
                with self.lock:
                    self.sent += 1
                    if not ok:
                        self.failed += 1
                    else:
                        self.outcomes[answer.json()["request_id"]] = label

    def send(self, rows: Any, truth: Any) -> None:
        """From now on, ``rows`` (with ``truth``) instead."""
        self.rows = _pairs(rows, truth)

    def post_outcomes(self) -> None:
        with self.lock:
            taken, self.outcomes = self.outcomes, {}
        if taken:
            gnomon.get_client().deployments.log_outcomes(DEPLOYMENT, taken)


def _pairs(rows: Any, truth: Any) -> list[tuple[dict[str, Any], int]]:
    return list(zip(rows.to_dict(orient="records"), (int(t) for t in truth), strict=True))


def run_loop(split: Any, *, hold_s: float = 4.0) -> LoopDemo:
    """The whole loop on ``split`` (the demo's train/valid/test frames), in a few minutes."""
    import pandas as pd

    from gnomon.automation.plans import plan_for
    from gnomon.automation.policies import PolicyService
    from gnomon.automation.rollouts import RolloutService
    from gnomon.automation.spec import RolloutSpec
    from gnomon.automation.wiring import start_loop
    from gnomon.config import Settings
    from gnomon.pipelines.schedules import ScheduleService
    from gnomon.serving.loading import ServeOptions, build_app
    from gnomon.serving.local import run_in_thread

    client = gnomon.get_client()
    services = client._services
    start_loop(services)
    policies, rollouts = services.get(PolicyService), services.get(RolloutService)
    radius = split.x_train["mean radius"]
    small = radius <= radius.quantile(SMALL)
    train = split.x_train.assign(**{TARGET: split.y_train})
    _setup(client, train[small], split.x_test.assign(**{TARGET: split.y_test}), hold_s)
    pool = pd.concat([split.x_valid, split.x_test])
    labels = pd.concat([split.y_valid, split.y_test])
    calm = pool["mean radius"] <= radius.quantile(SMALL)
    options = ServeOptions(deployment=DEPLOYMENT, poll_seconds=0.2)
    first = _pairs(pool[calm], labels[calm])
    with run_in_thread(build_app(options, Settings())) as url, _Traffic(url, first) as traffic:
        _wait(lambda: traffic.sent >= 2 * WINDOW_ROWS)
        drifted_at = time.monotonic()
        traffic.send(pool[~calm], labels[~calm])  # the population changes
        gnomon.log_dataset(train, DATASET)  # and new data lands: every training row
        _wait(lambda: traffic.sent >= 5 * WINDOW_ROWS)
        traffic.post_outcomes()
        client.deployments.records(DEPLOYMENT, limit=1)  # the server's writer has flushed
        time.sleep(1.2)
        fired = _alert(client)
        [tick] = services.get(ScheduleService).run_due()
        [firing] = policies.firings(client.scope, POLICY, 1)
        if firing.rollout_id is None:
            raise RuntimeError(f"the policy's retraining stopped: {tick.message or firing.message}")
        promoted = _until_ended(rollouts, firing.rollout_id, traffic)
        promoted_at = time.monotonic()
        bad = _bad_candidate(client, train)
        plan = plan_for("medium", RolloutSpec(canary_steps=(25,), hold_s=60, min_requests=40), None)
        started = rollouts.start(client.scope, DEPLOYMENT, MODEL, bad, plan, {"level": "medium"})
        canary_at = time.monotonic()
        rolled_back = _until_ended(rollouts, started.id, traffic)
        rolled_back_at = time.monotonic()
    [firing] = policies.firings(client.scope, POLICY, 1)
    return LoopDemo(
        firing=_firing(firing, fired),
        promoted=_rollout(promoted),
        rolled_back=_rollout(rolled_back),
        drift_to_promotion_s=promoted_at - drifted_at,
        canary_to_rollback_s=rolled_back_at - canary_at,
        requests=traffic.sent,
        failed=traffic.failed,
    )


def _setup(client: Any, small: Any, holdout: Any, hold_s: float) -> None:
    """The champion (small tumours only), its deployment, the monitor and the policy; an
    earlier demo's loop objects are replaced."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from gnomon.deployments.entities import ServingConfig
    from gnomon.errors import InvalidInput, NotFound
    from gnomon.monitoring.alert_rules import AlertRule
    from gnomon.monitoring.entities import MonitorSpec

    with contextlib.suppress(NotFound, InvalidInput):
        client.rollouts.abort(DEPLOYMENT, "a new demo")
    with contextlib.suppress(NotFound):
        client.policies.delete(POLICY)
    with contextlib.suppress(NotFound):
        client.monitors.delete(MONITOR)
    with contextlib.suppress(NotFound):
        client.deployments.delete(DEPLOYMENT)
    version = gnomon.log_dataset(small, DATASET)
    gnomon.log_dataset(holdout, HOLDOUT)
    features = small.drop(columns=[TARGET])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(features, small[TARGET])
    with loop_run("champion"):
        uri = gnomon.log_model(model, "model", input_example=features, training_data=version.ref)
    champion = gnomon.register_model(uri, MODEL)
    client.registry.set_alias(MODEL, "production", champion.version)
    # Out-of-range tumours are answered and flagged, not refused: the drift must reach the
    # model for anyone to learn it drifted.
    client.deployments.create(
        DEPLOYMENT, f"{MODEL}@production", config=ServingConfig(policy="warn")
    )
    client.monitors.create(
        MONITOR,
        MonitorSpec(DEPLOYMENT, window_s=None, window_rows=WINDOW_ROWS, task="classification"),
    )
    client.monitors.set_rule(AlertRule("drift-share", MONITOR, "drift.share", ">", 0.3))
    spec = {
        "model": MODEL,
        "deployment": DEPLOYMENT,
        "cooldown": "10m",
        "gate": {
            "target": TARGET,
            "holdout": f"{HOLDOUT}@{client.datasets.get(HOLDOUT).latest_version}",
            "thresholds": {"accuracy": {"min_delta": 0.0}},
            "production_window": "1h",
            "min_production_rows": 50,
        },
        # A loose p99 ratio: each arm answers about a hundred requests, whose p99 is their
        # two slowest, which one pause of a busy machine decides (a CI run rolled back on it).
        "rollout": {
            "canary_steps": [25, 50],
            "hold": hold_s,
            "min_requests": 40,
            "limits": {"max_error_rate": 0.01, "max_p99_ratio": 10.0, "max_metric_drop": 0.05},
        },
    }
    client.policies.create(POLICY, "gnomon.demo_loop_flow:retrain", spec, monitor=MONITOR)


def _wait(done: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the demo's traffic stalled")
        time.sleep(0.05)


def _alert(client: Any) -> dict[str, Any]:
    run = client.monitors.run(MONITOR)
    shares = [w.figure("drift.share") for w in run.windows]
    events = client.monitors.events(MONITOR)
    if not any(e["event"]["kind"] == "fired" for e in events):
        raise RuntimeError(f"the drift alert did not fire: drift shares {shares}")
    return {"windows": len(run.windows), "drift_shares": shares}


def _until_ended(rollouts: Any, rollout_id: str, traffic: _Traffic, timeout: float = 240) -> Any:
    scope = gnomon.get_client().scope
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        traffic.post_outcomes()
        rollouts.run_due()
        rollout = rollouts.get(scope, rollout_id)
        if rollout.ended:
            return rollout
        time.sleep(0.5)
    raise TimeoutError(f"the rollout did not end: {rollout.decisions[-1].reason}")


def _bad_candidate(client: Any, train: Any) -> int:
    """A version that learnt the labels backwards: it passes no gate, so it is rolled out
    by hand, as a person in a hurry might."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features = train.drop(columns=[TARGET])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(features, 1 - train[TARGET])
    with loop_run("backwards"):
        uri = gnomon.log_model(model, "model", input_example=features)
    return int(gnomon.register_model(uri, MODEL).version)


def _firing(firing: Any, fired: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": firing.status,
        "candidate": firing.candidate_version,
        "champion": firing.champion_version,
        "gate": firing.gate,
        "risk": firing.risk,
        "alert": fired,
    }


def _rollout(rollout: Any) -> dict[str, Any]:
    return {
        "candidate": rollout.candidate,
        "state": rollout.state,
        "stages": [s.describe() for s in rollout.plan.stages],
        "decisions": [(d.action, d.reason) for d in rollout.decisions],
    }


__all__ = ["LoopDemo", "run_loop"]
