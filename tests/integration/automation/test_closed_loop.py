"""The closed loop end to end in the embedded default: drifted traffic → the monitor's alert
→ the policy's retraining pipeline → the gate (holdout and labelled production records) →
the change's risk → a canary rollout stepped on live evidence → automatic promotion; and
the variant whose candidate answers worse live → automatic rollback. Records are written the
way the model server writes them, at chosen times, so each stage's evidence is exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest

import gnomon
from gnomon.automation.policies import PolicyService
from gnomon.automation.rollouts import RolloutService
from gnomon.automation.wiring import start_loop
from gnomon.monitoring.alert_rules import AlertRule
from gnomon.monitoring.entities import MonitorSpec
from gnomon.pipelines.schedules import ScheduleService
from gnomon.predictions.entities import AnsweredRequest, Outcome
from gnomon.predictions.records import OutcomeWriter, RecordWriter
from gnomon.predictions.storage import predictions_store
from tests.fixtures.monitoring import HOUR, Served, frame

STEPS = "tests.integration.automation.loop_steps"
HOLD_MS = 60_000
CONCEPT = 2.0  # after the drift the truth is x > 2, which the champion (x > 0) gets wrong


@dataclass
class Loop:
    served: Served
    policies: PolicyService
    schedules: ScheduleService
    rollouts: RolloutService

    def answer(
        self,
        rows: pd.DataFrame,
        start_ms: int,
        prefix: str,
        version: int,
        role: str,
        predict: Callable[[float], int],
    ) -> None:
        """Each row answered by ``version`` at start_ms + its index, its outcome the truth."""
        client = self.served.client
        store = predictions_store(
            client.settings.artifact_root, client.scope.workspace, client.settings.s3_endpoint_url
        )
        records, outcomes = RecordWriter(store), OutcomeWriter(store)
        truth = []
        for index in range(len(rows)):
            one = rows.iloc[[index]].reset_index(drop=True)
            x = float(one["x"].iloc[0])
            request_id = f"{prefix}-{index}"
            request = AnsweredRequest(
                request_id, start_ms + index, "web", "churn", version, role, one, [predict(x)], 2.0
            )
            records.submit_request(request)
            truth.append(Outcome(request_id, start_ms + index, "web", int(x > CONCEPT)))
        records.close()
        outcomes.submit(truth)
        outcomes.close()


@pytest.fixture
def loop(served: Served) -> Loop:
    services = gnomon.get_client()._services
    start_loop(services)
    return Loop(
        served,
        services.get(PolicyService),
        services.get(ScheduleService),
        services.get(RolloutService),
    )


def _drift_and_alert(loop: Loop) -> None:
    """Calm traffic, then drifted traffic whose outcomes follow the new concept; the
    monitor's drift rule fires."""
    served = loop.served
    served.write(frame(200, seed=1), served.base_ms, "calm")
    drifted = frame(200, seed=2, shift=CONCEPT)
    truth = {f"shifted-{i}": int(x > CONCEPT) for i, x in enumerate(drifted["x"])}
    served.write(drifted, served.base_ms + HOUR, "shifted", outcomes=truth)
    monitors = served.client.monitors
    monitors.run("m", until_ms=served.base_ms + 2 * HOUR)
    assert [e["event"]["kind"] for e in monitors.events("m")] == ["fired"]


def _policy(loop: Loop) -> None:
    client = loop.served.client
    client.registry.set_alias("churn", "production", 1)  # the champion, by its alias
    client.deployments.set_route("web", "churn@production")
    monitors = client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600, drift={"alpha": 0.01}))
    monitors.set_rule(AlertRule("x", "m", "drift.detected.x", ">=", 1))
    holdout = frame(300, seed=11, shift=CONCEPT)
    holdout["label"] = (holdout["x"] > CONCEPT).astype(int)
    gnomon.log_dataset(holdout, "holdout")
    spec: dict[str, Any] = {
        "model": "churn",
        "deployment": "web",
        "cooldown": "1h",
        "gate": {
            "target": "label",
            "holdout": "holdout@1",
            "thresholds": {"accuracy": {"min_delta": 0.05}},
            "production_window": "1d",
            "min_production_rows": 50,
        },
        "rollout": {"canary_steps": [10, 50], "hold": "60s", "min_requests": 30},
    }
    scope = loop.served.client.scope
    loop.policies.create(scope, "retrain-on-drift", f"{STEPS}:retrain", spec, monitor="m")


def _retrained(loop: Loop) -> Any:
    """The alert's tick runs the pipeline; what follows gates, classifies, starts a rollout."""
    [tick] = loop.schedules.run_due()
    assert tick.status == "succeeded", tick.message
    scope = loop.served.client.scope
    [firing] = loop.policies.firings(scope, "retrain-on-drift")
    assert firing.status == "rolling_out", firing.message
    assert (firing.candidate_version, firing.champion_version) == (2, 1)
    gate = firing.gate
    assert gate is not None and gate["passed"]
    assert gate["holdout"]["rows"] == 300
    assert gate["production"]["rows"] == 200  # the drifted records with their outcomes
    holdout = gate["holdout"]
    assert holdout["metrics"]["accuracy"] > holdout["champion_metrics"]["accuracy"] + 0.05
    assert firing.risk is not None and firing.risk["level"] == "medium"
    assert any(c["kind"] == "data" for c in firing.risk["changes"])
    rollout = loop.rollouts.get(scope, firing.rollout_id)
    assert [s.describe() for s in rollout.plan.stages] == [
        "smoke", "canary 10%", "canary 50%", "promote",
    ]  # fmt: skip
    return rollout


def _canary(loop: Loop, rollout: Any) -> tuple[Any, int]:
    """The smoke test passes and the candidate takes 10% of the traffic."""
    at = rollout.stage_started_ms + 1
    [stepped] = loop.rollouts.run_due(now=at)
    assert stepped.current.describe() == "canary 10%", stepped.decisions[-1].reason
    routing = loop.served.client.deployments.get("web").routing
    assert routing.candidate is not None
    assert (routing.candidate.ref, routing.candidate.weight) == ("churn/2", 10)
    return stepped, at


def test_drift_retrains_gates_and_promotes_through_a_canary(loop: Loop) -> None:
    _policy(loop)
    _drift_and_alert(loop)
    rollout, at = _canary(loop, _retrained(loop))
    scope = loop.served.client.scope
    # Too little evidence when the hold ends: extended, never promoted on no data.
    [held] = loop.rollouts.run_due(now=at + HOLD_MS + 1)
    assert held.decisions[-1].action == "extend"
    assert "only 0 of 30 answers" in held.decisions[-1].reason
    at = held.stage_started_ms
    for stage in ("canary 50%", "promoted"):
        rows = frame(150, seed=at % 1000, shift=CONCEPT)
        loop.answer(rows.iloc[:100], at + 1, f"p{at}", 1, "primary", lambda x: int(x > 0))
        loop.answer(rows.iloc[100:], at + 1, f"c{at}", 2, "canary", lambda x: int(x > CONCEPT))
        [stepped] = loop.rollouts.run_due(now=at + HOLD_MS + 500)
        state = stepped.current.describe() if stepped.state == "running" else stepped.state
        assert state == stage, stepped.decisions[-1].reason
        at = stepped.stage_started_ms
    assert "accuracy on outcomes 1 against" in stepped.decisions[-3].reason
    deployment = loop.served.client.deployments.get("web")
    assert [(a.ref, a.role.value, a.weight) for a in deployment.routing.arms] == [
        ("churn/2", "primary", 100)
    ]
    assert loop.served.client.registry.get_version("churn", "production").version == 2
    [firing] = loop.policies.firings(scope, "retrain-on-drift")
    assert firing.status == "promoted"
    actions = [d.action for d in loop.rollouts.get(scope, rollout.id).decisions]
    assert actions == ["start", "advance", "extend", "advance", "advance", "promote"]


def test_a_candidate_worse_live_is_rolled_back(loop: Loop) -> None:
    _policy(loop)
    _drift_and_alert(loop)
    _, at = _canary(loop, _retrained(loop))
    scope = loop.served.client.scope
    rows = frame(150, seed=5, shift=CONCEPT)
    loop.answer(rows.iloc[:100], at + 1, "p", 1, "primary", lambda x: int(x > CONCEPT))
    loop.answer(rows.iloc[100:], at + 1, "c", 2, "canary", lambda x: int(x <= CONCEPT))
    # Within the hold: enough labelled answers show the candidate worse, so it goes at once.
    [stepped] = loop.rollouts.run_due(now=at + 5_000)
    assert stepped.state == "rolled_back"
    reason = stepped.decisions[-1].reason
    assert "accuracy on outcomes 0 against the primary's 1" in reason, reason
    assert stepped.decisions[-1].figures["candidate"]["labelled"] == 50
    routing = loop.served.client.deployments.get("web").routing
    assert [(a.ref, a.weight) for a in routing.arms] == [("churn@production", 100)]
    assert loop.served.client.registry.get_version("churn", "production").version == 1
    [firing] = loop.policies.firings(scope, "retrain-on-drift")
    assert firing.status == "rolled_back"
    # The firing closed: the next alert may retrain again, once the cool-down is over.
    schedule = loop.schedules.get(scope, "retrain-on-drift")
    said = loop.policies.before(schedule, "alert:again", firing.started_ms + 60_000)
    assert said is not None and "cooling down" in said
    assert loop.policies.before(schedule, "alert:later", firing.started_ms + 2 * HOUR) is None
