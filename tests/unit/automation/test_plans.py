"""plan_for: the stages each strategy takes, approval where the policy asks for it, the
strategy override, the alias and gate fields carried into the plan, and a plan that
survives to_dict, JSON and from_dict."""

from __future__ import annotations

import json

import pytest

from gnomon.automation.entities import Plan, Stage
from gnomon.automation.plans import gate_metric, plan_for
from gnomon.automation.spec import GateSpec, Limits, RolloutSpec

ROLLOUT = RolloutSpec(
    canary_steps=(5, 25, 60),
    hold_s=120.0,
    min_requests=40,
    shadow_requests=300,
    shadow_max_s=600.0,
    smoke_rows=12,
    limits=Limits(max_error_rate=0.05, max_p99_ratio=3.0, max_metric_drop=None),
)
SMOKE = Stage("smoke", min_requests=12)
SHADOW = Stage("shadow", hold_s=600.0, min_requests=300)
CANARIES = (
    Stage("canary", 5, 120.0, 40),
    Stage("canary", 25, 120.0, 40),
    Stage("canary", 60, 120.0, 40),
)
PROMOTE = Stage("promote")
APPROVAL = Stage("approval")


def kinds(plan: Plan) -> list[str]:
    return [stage.describe() for stage in plan.stages]


def test_low_risk_goes_direct_smoke_then_promote() -> None:
    plan = plan_for("low", ROLLOUT)
    assert plan.strategy == "direct"
    assert plan.stages == (SMOKE, PROMOTE)


def test_medium_risk_goes_canary_through_each_step() -> None:
    plan = plan_for("medium", ROLLOUT)
    assert plan.strategy == "canary"
    assert plan.stages == (SMOKE, *CANARIES, PROMOTE)
    assert kinds(plan) == ["smoke", "canary 5%", "canary 25%", "canary 60%", "promote"]


def test_high_risk_goes_shadow_then_the_canary_steps() -> None:
    plan = plan_for("high", ROLLOUT)
    assert plan.strategy == "shadow"
    assert plan.stages == (SMOKE, SHADOW, *CANARIES, PROMOTE)


def test_the_policy_maps_risk_to_strategy() -> None:
    rollout = RolloutSpec(strategies={"low": "canary", "medium": "shadow", "high": "direct"})
    assert [plan_for(risk, rollout).strategy for risk in ("low", "medium", "high")] == [
        "canary",
        "shadow",
        "direct",
    ]
    assert kinds(plan_for("high", rollout)) == ["smoke", "promote"]


@pytest.mark.parametrize(
    ("strategy", "stages"),
    [
        ("direct", (SMOKE, PROMOTE)),
        ("canary", (SMOKE, *CANARIES, PROMOTE)),
        ("shadow", (SMOKE, SHADOW, *CANARIES, PROMOTE)),
    ],
)
@pytest.mark.parametrize("risk", ["low", "medium", "high"])
def test_a_strategy_given_overrides_the_policys_choice(
    risk: str, strategy: str, stages: tuple[Stage, ...]
) -> None:
    plan = plan_for(risk, ROLLOUT, strategy=strategy)
    assert (plan.strategy, plan.stages) == (strategy, stages)


@pytest.mark.parametrize(
    ("risk", "stages"),
    [
        ("low", (SMOKE, APPROVAL, PROMOTE)),
        ("medium", (SMOKE, APPROVAL, *CANARIES, PROMOTE)),
        # A shadow takes no live traffic: the person approves what it found.
        ("high", (SMOKE, SHADOW, APPROVAL, *CANARIES, PROMOTE)),
    ],
)
def test_a_listed_risk_waits_for_approval_before_live_traffic(
    risk: str, stages: tuple[Stage, ...]
) -> None:
    rollout = RolloutSpec(
        canary_steps=(5, 25, 60),
        hold_s=120.0,
        min_requests=40,
        shadow_requests=300,
        shadow_max_s=600.0,
        smoke_rows=12,
        approval=("low", "medium", "high"),
    )
    assert plan_for(risk, rollout).stages == stages


def test_only_the_listed_risks_wait_for_approval() -> None:
    rollout = RolloutSpec(approval=("high",))
    assert "approval" not in kinds(plan_for("low", rollout))
    assert "approval" not in kinds(plan_for("medium", rollout))
    assert "approval" in kinds(plan_for("high", rollout))
    # Approval follows the risk, whatever strategy was chosen for it.
    assert kinds(plan_for("high", rollout, strategy="direct")) == ["smoke", "approval", "promote"]
    assert "approval" not in kinds(plan_for("low", rollout, strategy="shadow"))


def test_without_a_gate_the_plan_keeps_its_defaults_and_the_alias() -> None:
    plan = plan_for("medium", ROLLOUT, alias="production")
    assert plan.limits == ROLLOUT.limits
    assert (plan.metric, plan.model_type, plan.sample, plan.target) == (
        "accuracy",
        "classifier",
        None,
        None,
    )
    assert plan.alias == "production"
    assert plan_for("medium", ROLLOUT).alias is None


def test_the_gate_gives_the_plan_its_metric_model_type_sample_and_target() -> None:
    gate = GateSpec("price", holdout="houses@3", model_type="regressor")
    plan = plan_for("low", ROLLOUT, gate, alias="live")
    assert (plan.metric, plan.model_type, plan.sample, plan.target, plan.alias) == (
        "rmse",
        "regressor",
        "houses@3",
        "price",
        "live",
    )
    assert plan.limits == ROLLOUT.limits


def test_the_gates_first_threshold_names_the_metric() -> None:
    gate = GateSpec("churned", thresholds={"f1": 0.7, "accuracy": {"min_delta": 0}})
    assert gate_metric(gate) == "f1"
    assert plan_for("low", ROLLOUT, gate).metric == "f1"
    assert gate_metric(GateSpec("churned")) == "accuracy"
    assert gate_metric(GateSpec("price", model_type="regressor")) == "rmse"


def test_a_plan_survives_to_dict_json_and_from_dict() -> None:
    gate = GateSpec("churned", holdout="tx@2", thresholds={"roc_auc": 0.8})
    rollout = RolloutSpec(canary_steps=(10, 50), approval=("high",))
    plan = plan_for("high", rollout, gate, alias="production")
    assert Plan.from_dict(plan.to_dict()) == plan
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_a_plan_without_gate_or_alias_survives_json() -> None:
    plan = plan_for("low", ROLLOUT)
    stored = json.loads(json.dumps(plan.to_dict()))
    assert stored["limits"]["max_metric_drop"] is None
    assert Plan.from_dict(stored) == plan
