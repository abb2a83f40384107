"""A policy's bad input is refused when it is created, not when it fires, and leaves nothing
behind; and the rule of one retraining in flight per model, across policies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

import gnomon
from gnomon._types import Scope
from gnomon.automation.policies import PolicyService
from gnomon.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from gnomon.pipelines.schedule_entities import NewSchedule
from gnomon.pipelines.schedules import ScheduleService
from tests.fixtures.monitoring import HOUR, Served

PIPELINE = "tests.integration.automation.loop_steps:retrain"
CRON = "0 3 * * *"


def _spec(**changed: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "model": "churn",
        "deployment": "web",
        "cooldown": "1h",
        "gate": {"target": "label", "holdout": "train@1"},
        "rollout": {"canary_steps": [10, 50], "hold": "5m"},
    }
    return {**spec, **changed}


@dataclass
class Policies:
    scope: Scope
    service: PolicyService
    schedules: ScheduleService

    def create(self, name: str = "retrain", pipeline: str = PIPELINE, **options: Any) -> Any:
        spec = options.pop("spec", None) or _spec()
        return self.service.create(self.scope, name, pipeline, spec, **{"cron": CRON, **options})

    def nothing_written(self) -> None:
        assert self.service.list(self.scope) == []
        assert self.schedules.list(self.scope) == []


@pytest.fixture
def policies(served: Served) -> Policies:
    services = gnomon.get_client()._services
    return Policies(served.client.scope, services.get(PolicyService), services.get(ScheduleService))


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (
            {"pipeline": "no_such_module_zz:retrain"},
            "pipeline 'no_such_module_zz:retrain': cannot import",
        ),
        ({"pipeline": "tests.integration.automation.loop_steps:nothing"}, "has no 'nothing'"),
        ({"cron": None, "monitor": "nope"}, "no monitor 'nope'"),
        ({"spec": _spec(deployment="nowhere")}, "deployment 'nowhere' not found"),
        ({"spec": _spec(model="nobody")}, "registered model 'nobody' not found"),
        (
            {"spec": _spec(gate={"target": "label", "holdout": "absent@1"})},
            "dataset 'absent' not found",
        ),
        (
            {"spec": _spec(gate={"target": "label", "holdout": "train@9"})},
            "dataset 'train' has no version 9",
        ),
    ],
    ids=["module", "attribute", "monitor", "deployment", "model", "holdout", "holdout-version"],
)
def test_an_unknown_object_is_not_found_at_creation(
    policies: Policies, options: dict[str, Any], named: str
) -> None:
    with pytest.raises(NotFound) as caught:
        policies.create(**options)
    assert named in caught.value.message, caught.value.message
    policies.nothing_written()


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        (_spec(cooldown="soon"), "cooldown is seconds or a duration"),
        (_spec(stale_s=5), "stale_s must be from 60 s to 30 days"),
        (_spec(colour="red"), "policy has no field 'colour'"),
        (_spec(gate=None), "a policy needs a gate"),
        (_spec(gate={"target": ""}), "gate.target is the label column's name"),
        (_spec(rollout={"canary_steps": [50, 10]}), "rollout.canary_steps must rise"),
        (_spec(rollout={"canary_steps": [0]}), "rollout.canary_steps must be a whole number"),
        (_spec(rollout={"high": "yolo"}), "rollout.high is one of direct, canary, shadow"),
        (_spec(rollout={"approval": ["urgent"]}), "rollout.approval lists risk levels"),
        (_spec(rollout={"limits": {"min_agreement": 2}}), "min_agreement must be from 0 to 1"),
        (_spec(rollout={"hold": "31d"}), "rollout.hold must be from 1 s to 30 days"),
    ],
)
def test_a_bad_spec_value_is_invalid_input(
    policies: Policies, spec: dict[str, Any], said: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        policies.create(spec=spec)
    assert said in caught.value.message, caught.value.message
    policies.nothing_written()


def test_no_trigger_is_invalid_input_and_writes_nothing(policies: Policies) -> None:
    with pytest.raises(InvalidInput, match="a schedule needs a trigger"):
        policies.create(cron=None)
    policies.nothing_written()


def test_a_taken_name_leaves_the_first_policy_as_it_was(policies: Policies) -> None:
    first = policies.create()
    with pytest.raises(AlreadyExists, match="policy 'retrain' already exists"):
        policies.create(spec=_spec(cooldown="2h"))
    kept = policies.service.get(policies.scope, "retrain")
    assert (kept.version, kept.pipeline, kept.spec) == (1, PIPELINE, first.spec)
    assert kept.spec.cooldown_s == 3600
    assert len(policies.service.versions(policies.scope, "retrain")) == 1
    # A schedule that is no policy holds its name too: the policy is refused, whole.
    new = NewSchedule("nightly", PIPELINE, cron=CRON)
    policies.schedules.create(policies.scope, new)
    with pytest.raises(AlreadyExists):
        policies.create("nightly")
    assert [p.name for p in policies.service.list(policies.scope)] == ["retrain"]
    assert policies.schedules.get(policies.scope, "nightly").pipeline == PIPELINE


def test_a_policy_with_a_retraining_in_flight_cannot_be_deleted(policies: Policies) -> None:
    policies.create()
    schedule = policies.schedules.get(policies.scope, "retrain")
    assert policies.service.before(schedule, "cron:1", gnomon._types.now_ms()) is None
    with pytest.raises(Conflict, match="policy 'retrain' has a retraining in flight"):
        policies.service.delete(policies.scope, "retrain")
    assert policies.service.get(policies.scope, "retrain").version == 1
    assert policies.schedules.get(policies.scope, "retrain").pipeline == PIPELINE


def test_one_retraining_in_flight_per_model_across_policies(policies: Policies) -> None:
    policies.create("first")
    policies.create("second", spec=_spec(stale_s="1m"))
    scope, service = policies.scope, policies.service
    first = policies.schedules.get(scope, "first")
    second = policies.schedules.get(scope, "second")
    at = gnomon._types.now_ms() - 2 * HOUR
    assert service.before(first, "cron:1", at) is None  # first's retraining is in flight
    said = service.before(second, "cron:1", at + 1_000)
    assert said == (
        "a retraining of model 'churn' is in flight (policy 'first', retraining): "
        "at most one at a time"
    )
    # Not yet stale by the asker's stale_s (60 s): still in flight.
    assert service.before(second, "cron:2", at + 59_000) == said
    assert [f.status for f in service.firings(scope, "second")] == []

    # Untouched past stale_s: its worker died; it is closed as failed and blocks no more.
    assert service.before(second, "cron:3", at + 61_000) is None
    [abandoned] = service.firings(scope, "first")
    assert (abandoned.status, abandoned.open) == ("failed", False)
    assert abandoned.message == "abandoned: no progress for 1 min"
    [opened] = service.firings(scope, "second")
    assert (opened.status, opened.open, opened.tick) == ("retraining", True, "cron:3")
    # Now the second policy's retraining holds the model, past the first's cool-down too.
    blocked = service.before(first, "cron:4", at + HOUR + 62_000)
    assert blocked is not None and "(policy 'second', retraining)" in blocked
