"""``gnomon policy`` and ``gnomon rollout`` as a user types them, and the rollout stages a
person or live traffic decides: an approval, a shadow judged on its agreement with the
primary. Records are written the way the model server writes them, at chosen times."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import gnomon
from gnomon.automation.entities import Rollout
from gnomon.automation.plans import plan_for
from gnomon.automation.policies import PolicyService
from gnomon.automation.rollouts import RolloutService
from gnomon.automation.spec import RolloutSpec
from gnomon.automation.wiring import start_loop
from gnomon.monitoring.entities import MonitorSpec
from gnomon.pipelines.schedule_entities import Tick
from gnomon.pipelines.schedules import ScheduleService
from gnomon.predictions.entities import AnsweredRequest
from gnomon.predictions.records import RecordWriter
from gnomon.predictions.storage import predictions_store
from tests.fixtures.cli import fails, invoke, ok, ok_json
from tests.fixtures.monitoring import HOUR, Served, frame

PIPELINE = "tests.integration.automation.loop_steps:retrain"
OWNER = "test-worker"
POLICY = f"""\
name: retrain-churn
pipeline: {PIPELINE}
params: {{threshold: 2.0}}
triggers: {{alert: m}}
model: churn
deployment: web
cooldown: 1h
gate:
  target: label
  holdout: train@1
  thresholds: {{accuracy: {{min_delta: 0.01}}}}
rollout:
  canary_steps: [10, 50]
  hold: 5m
  approval: [high]
"""


# -- gnomon policy ----------------------------------------------------------------------------


def _monitored(served: Served) -> None:
    served.client.monitors.create("m", MonitorSpec("web", window_s=3600))


def _written(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _nothing_named(name: str) -> None:
    assert [p["name"] for p in ok_json("policy", "list")] == []
    assert name not in [s["name"] for s in ok_json("schedule", "list")]


def test_bad_policy_files_are_one_line_and_create_nothing(served: Served, tmp_path: Path) -> None:
    _monitored(served)
    padding = "# " + "x" * 1_000_000 + "\n"
    bad = {
        "not YAML": ("name: [retrain-churn\n", "is not YAML (line 2): expected ',' or ']'"),
        "not a mapping": ("- retrain-churn\n- churn\n", "holds a mapping of fields, not list"),
        "unknown field": (POLICY + "colour: red\n", "policy has no field 'colour'"),
        "unknown trigger": (
            POLICY.replace("{alert: m}", "{alert: m, webhook: x}"),
            "triggers are alert, cron, dataset, timezone",
        ),
        "no trigger": (POLICY.replace("triggers: {alert: m}\n", ""), "a policy needs a trigger"),
        "over 1 MB": (POLICY + padding, "is over 1000000 bytes"),
    }
    for case, (text, message) in bad.items():
        said = fails("policy", "create", _written(tmp_path, "policy.yaml", text))
        assert message in said, (case, said)
        _nothing_named("retrain-churn")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(POLICY.replace("churn", "churn-\xe9").encode("latin-1"))
    assert "is not YAML: 'utf-8' codec can't decode" in fails("policy", "create", str(latin))
    _nothing_named("retrain-churn")
    # The same setup with the good file creates it: the refusals were the files' own.
    assert "Created policy retrain-churn (v1)" in ok(
        "policy", "create", _written(tmp_path, "policy.yaml", POLICY)
    )


def test_policy_create_list_show_update_history_firings_pause_resume_delete(
    served: Served, tmp_path: Path
) -> None:
    _monitored(served)
    out = ok("policy", "create", _written(tmp_path, "policy.yaml", POLICY))
    assert f"Created policy retrain-churn (v1): {PIPELINE} on alert m" in out
    listed = ok("policy", "list")
    assert "retrain-churn" in listed and "alert m" in listed and "active" in listed
    shown = ok("policy", "show", "retrain-churn")
    assert "holdout train@1, target label" in shown and "approval" in shown
    assert "high → shadow" in shown and "3600 s" in shown
    as_json = ok_json("policy", "show", "retrain-churn")
    assert (as_json["version"], as_json["triggers"], as_json["params"]) == (
        1, ["alert m"], {"threshold": 2.0},
    )  # fmt: skip
    assert as_json["spec"]["gate"]["holdout"] == "train@1"
    assert as_json["spec"]["rollout"]["approval"] == ["high"]

    slower = _written(tmp_path, "v2.yaml", POLICY.replace("cooldown: 1h", "cooldown: 2h"))
    assert "is now v2" in ok("policy", "update", "retrain-churn", slower, "--note", "slower")
    history = ok_json("policy", "history", "retrain-churn")
    assert [(v["version"], v["note"]) for v in history] == [(1, "created"), (2, "slower")]
    assert [v["spec"]["cooldown_s"] for v in history] == [3600.0, 7200.0]
    assert "slower" in ok("policy", "history", "retrain-churn")

    _fired_and_failed(served)
    [firing] = ok_json("policy", "firings", "retrain-churn")
    assert (firing["status"], firing["policy_version"]) == ("failed", 2)
    assert firing["message"] == "the pipeline run failed: step train failed"
    assert "the pipeline run failed" in ok("policy", "firings", "retrain-churn")

    assert "Paused policy retrain-churn" in ok("policy", "pause", "retrain-churn")
    assert ok_json("policy", "show", "retrain-churn")["paused"] is True
    assert "paused" in ok("policy", "list")
    [schedule] = ok_json("schedule", "list")
    assert (schedule["name"], schedule["paused"]) == ("retrain-churn", True)
    ok("policy", "resume", "retrain-churn")
    assert ok_json("policy", "show", "retrain-churn")["paused"] is False
    assert ok_json("schedule", "list")[0]["paused"] is False

    assert "Deleted policy retrain-churn" in ok("policy", "delete", "retrain-churn")
    _nothing_named("retrain-churn")
    assert "policy 'retrain-churn' does not exist" in fails("policy", "show", "retrain-churn")


def _fired_and_failed(served: Served) -> None:
    """The policy's tick as the worker takes it; while its run is in flight the policy cannot
    be deleted; the run fails and the firing closes."""
    services = gnomon.get_client()._services
    policies = services.get(PolicyService)
    schedule = services.get(ScheduleService).get(served.client.scope, "retrain-churn")
    at = gnomon._types.now_ms()
    assert policies.before(schedule, "alert:1", at) is None
    said = fails("policy", "delete", "retrain-churn")
    assert "policy 'retrain-churn' has a retraining in flight" in said
    failed = Tick("retrain-churn", "alert:1", "failed", OWNER, None, "step train failed", at, at)
    policies.after(schedule, failed)


# -- gnomon rollout ---------------------------------------------------------------------------


@dataclass
class Rollouts:
    served: Served
    service: RolloutService

    @property
    def arms(self) -> list[tuple[str, str, int]]:
        routing = self.served.client.deployments.get("web").routing
        return [(a.ref, a.role.value, a.weight) for a in routing.arms]

    def answer(
        self,
        rows: pd.DataFrame,
        start_ms: int,
        prefix: str,
        version: int,
        role: str,
        predict: Callable[[float], int],
    ) -> None:
        """Each row answered by ``version`` as ``role`` at start_ms + its index."""
        client = self.served.client
        settings = client.settings
        store = predictions_store(
            settings.artifact_root, client.scope.workspace, settings.s3_endpoint_url
        )
        writer = RecordWriter(store)
        for index in range(len(rows)):
            one = rows.iloc[[index]].reset_index(drop=True)
            answer = [predict(float(one["x"].iloc[0]))]
            request_id, at = f"{prefix}-{index}", start_ms + index
            writer.submit_request(
                AnsweredRequest(request_id, at, "web", "churn", version, role, one, answer, 1.0)
            )
        writer.close()

    def start(self, plan_spec: RolloutSpec, strategy: str | None, at: int) -> Rollout:
        plan = plan_for("high", plan_spec, strategy=strategy)
        risk = {"level": "high", "changes": []}
        return self.service.start(self.served.client.scope, "web", "churn", 2, plan, risk, now=at)


@pytest.fixture
def rollouts(served: Served) -> Rollouts:
    """churn/1 answers ``web`` as its primary, churn/2 (the same model) is the candidate, and
    the deployment has records the smoke test samples its rows from."""
    client = served.client
    gnomon.register_model(client.registry.get_version("churn", 1).source, "churn")
    client.deployments.set_route("web", "churn/1")
    served.write(frame(30, seed=3), served.base_ms, "sample")
    services = gnomon.get_client()._services
    start_loop(services)  # this process smoke-tests candidates, as gnomon worker does
    return Rollouts(served, services.get(RolloutService))


def test_rollout_start_status_approve_abort_and_bad_starts(rollouts: Rollouts) -> None:
    assert "deployment 'web' has had no rollout" in fails("rollout", "approve", "web")
    out = ok("rollout", "start", "web", "churn/2", "--risk", "high", "--strategy", "shadow")
    assert "churn/2 on web: high risk, shadow rollout, running (smoke)" in out
    status = ok("rollout", "status", "web")
    for stage in ("smoke", "shadow", "canary 10%", "canary 50%", "promote", "◀ now"):
        assert stage in status, stage
    assert "high risk: shadow rollout (smoke, shadow, canary 10%, canary 50%, promote)" in status

    said = fails("rollout", "approve", "web")
    assert "the rollout of churn/2 over 'web' is running, not waiting for approval" in said
    again = fails("rollout", "start", "web", "churn/2", "--risk", "high")
    assert "deployment 'web' has a rollout running; let it end or abort it" in again
    assert "churn/1 already answers 'web' as its primary" in fails(
        "rollout", "start", "web", "churn/1", "--risk", "low"
    )
    for malformed in ("churn", "churn/two", "/2"):
        said = fails("rollout", "start", "web", malformed, "--risk", "low")
        assert f"the candidate is MODEL/VERSION (churn/7), not {malformed!r}" in said
    said = fails("rollout", "start", "nowhere", "churn/2", "--risk", "low")
    assert "deployment 'nowhere' not found" in said
    said = fails("rollout", "start", "web", "churn/9", "--risk", "low")
    assert "version 9 of registered model 'churn' not found" in said
    assert "deployment 'nowhere' not found" in fails("rollout", "status", "nowhere")

    # One round of the controller: the smoke test passes and the candidate shadows.
    assert "web: churn/2 running (shadow): smoke test passed" in ok("rollout", "step")
    assert rollouts.arms == [("churn/1", "primary", 100), ("churn/2", "shadow", 0)]
    assert "Aborted the rollout of churn/2 on web" in ok(
        "rollout", "abort", "web", "--reason", "by hand"
    )
    assert rollouts.arms == [("churn/1", "primary", 100)]
    ended = ok_json("rollout", "status", "web")
    assert ended["state"] == "aborted"
    last = ended["decisions"][-1]
    assert last["action"] == "abort" and last["reason"].endswith(": by hand"), last
    assert [d["action"] for d in ended["decisions"]] == ["start", "advance", "abort"]
    assert "has ended (aborted)" in fails("rollout", "abort", "web")
    assert [r["state"] for r in ok_json("rollout", "list", "--deployment", "web")] == ["aborted"]


def test_an_approval_stage_waits_for_a_person(rollouts: Rollouts) -> None:
    at = rollouts.served.base_ms + 2 * HOUR
    spec = RolloutSpec(approval=("high",), smoke_rows=5)
    started = rollouts.start(spec, "canary", at)
    assert [s.describe() for s in started.plan.stages] == [
        "smoke", "approval", "canary 10%", "canary 50%", "promote",
    ]  # fmt: skip
    [waiting] = rollouts.service.run_due(owner=OWNER, now=at + 1)
    assert (waiting.state, waiting.current.describe()) == ("awaiting_approval", "approval")
    assert [d.action for d in waiting.decisions] == ["start", "advance", "hold"]
    assert rollouts.arms == [("churn/1", "primary", 100)]  # no live traffic before approval
    # The controller leaves it waiting, and records nothing more, however often it looks.
    [still] = rollouts.service.run_due(owner=OWNER, now=at + 60_000)
    assert still.state == "awaiting_approval" and len(still.decisions) == 3

    out = ok("rollout", "approve", "web")
    assert "Approved: churn/2 on web is at running (canary 10%)" in out
    assert rollouts.arms == [("churn/1", "primary", 90), ("churn/2", "canary", 10)]
    approved = rollouts.service.latest(rollouts.served.client.scope, "web")
    assert approved.decisions[-1].action == "approve"
    assert approved.decisions[-1].reason.startswith("approved by ")


def _shadowing(rollouts: Rollouts) -> Rollout:
    at = rollouts.served.base_ms + 2 * HOUR
    rollouts.start(RolloutSpec(shadow_requests=40, shadow_max_s=600, smoke_rows=5), None, at)
    [shadowing] = rollouts.service.run_due(owner=OWNER, now=at + 1)
    assert shadowing.current is not None and shadowing.current.kind == "shadow"
    assert rollouts.arms == [("churn/1", "primary", 100), ("churn/2", "shadow", 0)]
    return shadowing


def _copied(rollouts: Rollouts, rollout: Rollout, shadow: Callable[[float], int]) -> int:
    """60 requests answered by the primary and copied to the shadow (the same request ids),
    and 10 shadow answers of no primary's request, which compare with nothing."""
    start = rollout.stage_started_ms + 1
    rows = frame(70, seed=9)
    rollouts.answer(rows.iloc[:60], start, "copied", 1, "primary", lambda x: int(x > 0))
    rollouts.answer(rows.iloc[:60], start, "copied", 2, "shadow", shadow)
    rollouts.answer(rows.iloc[60:], start, "alone", 2, "shadow", shadow)
    return start + 5_000


def test_a_shadow_that_agrees_advances_to_the_canary(rollouts: Rollouts) -> None:
    shadowing = _shadowing(rollouts)
    at = _copied(rollouts, shadowing, lambda x: int(x > 0))
    [stepped] = rollouts.service.run_due(owner=OWNER, now=at)
    last = stepped.decisions[-1]
    assert stepped.current is not None and stepped.current.describe() == "canary 10%", last
    assert last.reason.startswith("shadow: agrees on 100.0% of 60 answers"), last.reason
    assert (last.figures["compared"], last.figures["agreement"]) == (60, 1.0)
    assert last.figures["candidate"]["answered"] == 70
    arms = dict((ref, (role, weight)) for ref, role, weight in rollouts.arms)
    assert arms["churn/2"] == ("canary", 10) and arms["churn/1"] == ("primary", 90)


def test_a_shadow_that_disagrees_is_rolled_back(rollouts: Rollouts) -> None:
    shadowing = _shadowing(rollouts)
    at = _copied(rollouts, shadowing, lambda x: int(x <= 0))
    [stepped] = rollouts.service.run_due(owner=OWNER, now=at)
    assert stepped.state == "rolled_back"
    last = stepped.decisions[-1]
    assert last.action == "rollback"
    assert "agrees with the primary on 0.0% of 60 answers (at least 90% wanted)" in last.reason
    assert rollouts.arms == [("churn/1", "primary", 100)]
    assert invoke("rollout", "status", "web").exit_code == 0
