"""The candidate's share of live traffic, replayed from decisions as the controller takes
them: each plan's stages, a rollback, a person's approval and abort, same-millisecond steps;
and the rollout gauges' collector, which never fails a scrape."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from gnomon.automation.entities import Action, Decision, Plan, Rollout
from gnomon.automation.exported import (
    DecisionCount,
    RolloutCollector,
    RolloutFigures,
    RolloutGauges,
)
from gnomon.automation.plans import plan_for
from gnomon.automation.spec import RolloutSpec
from gnomon.automation.traffic import candidate_weight, weight_history

CANARY = plan_for("medium", RolloutSpec(canary_steps=(10, 50)))  # smoke, 10%, 50%, promote
SHADOW = plan_for("high", RolloutSpec(canary_steps=(25,), approval=("high",)))


def _rollout(plan: Plan, *steps: tuple[int, int, Action]) -> Rollout:
    decisions = tuple(
        Decision(i, at, stage, action, "", {}) for i, (at, stage, action) in enumerate(steps)
    )
    return Rollout(
        "r", "web", "churn", 2, 1, None, {}, plan, 0, "running", 0, 0, "me", 0, 0, decisions
    )


def test_each_stage_gives_the_candidate_its_share() -> None:
    assert [s.describe() for s in CANARY.stages] == ["smoke", "canary 10%", "canary 50%", "promote"]
    assert [candidate_weight(CANARY, i, "running") for i in range(4)] == [0, 10, 50, 100]
    assert candidate_weight(CANARY, 2, "rolled_back") == 0
    assert candidate_weight(CANARY, 3, "promoted") == 100
    assert candidate_weight(CANARY, 9, "running") == 0  # a stage the plan lacks
    stages = [s.describe() for s in SHADOW.stages]
    assert stages == ["smoke", "shadow", "approval", "canary 25%", "promote"]
    assert [candidate_weight(SHADOW, i, "awaiting_approval") for i in range(4)] == [0, 0, 0, 25]


def test_a_promoted_canary_steps_up_and_an_extension_changes_nothing() -> None:
    rollout = _rollout(
        CANARY,
        (1000, 0, "start"),
        (2000, 0, "advance"),
        (3000, 1, "extend"),
        (4000, 1, "advance"),
        (5000, 2, "advance"),
        (5000, 3, "promote"),  # entering "promote" steps at once, in the same millisecond
    )
    assert weight_history(rollout) == [(1000, 0), (2000, 10), (4000, 50), (5000, 100)]


def test_a_rollback_and_an_abort_take_the_share_away() -> None:
    rolled = _rollout(CANARY, (1, 0, "start"), (2, 0, "advance"), (3, 1, "rollback"))
    assert weight_history(rolled) == [(1, 0), (2, 10), (3, 0)]
    approved = _rollout(
        SHADOW,
        (1, 0, "start"),
        (2, 0, "advance"),
        (3, 1, "advance"),
        (3, 2, "hold"),
        (4, 2, "approve"),
        (5, 3, "abort"),
    )
    assert weight_history(approved) == [(1, 0), (4, 25), (5, 0)]


def test_a_same_millisecond_step_back_leaves_no_point() -> None:
    rollout = _rollout(CANARY, (1, 0, "start"), (2, 0, "advance"), (2, 1, "rollback"))
    assert weight_history(rollout) == [(1, 0)]
    assert weight_history(replace(rollout, decisions=())) == []


def test_the_collector_exports_the_newest_rollout_per_labels_and_counts() -> None:
    older = RolloutGauges("team", "web", "churn", 2, "rolled_back", 2, 0)
    newer = RolloutGauges("team", "web", "churn", 2, "running", 1, 10)
    figures = RolloutFigures((newer, older), (DecisionCount("team", "web", "rollback", 3),))
    registry = CollectorRegistry()
    registry.register(RolloutCollector(lambda: figures))
    text = generate_latest(registry).decode()
    labels = 'candidate="2",deployment="web",model="churn",workspace="team"'
    assert f"gnomon_rollout_state{{{labels}}} 0.0" in text
    assert f"gnomon_rollout_candidate_weight{{{labels}}} 10.0" in text
    assert text.count("gnomon_rollout_stage{") == 1
    assert (
        'gnomon_rollout_decisions_total{action="rollback",deployment="web",workspace="team"} 3.0'
        in text
    )
    assert "# TYPE gnomon_rollout_decisions_total counter" in text


def test_a_failed_read_leaves_the_scrape_without_samples(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> RolloutFigures:
        raise RuntimeError("the database went away")

    registry = CollectorRegistry()
    registry.register(RolloutCollector(broken))
    with caplog.at_level(logging.ERROR, "gnomon.automation"):
        text = generate_latest(registry).decode()
    assert "# TYPE gnomon_rollout_state gauge" in text
    assert "gnomon_rollout_state{" not in text
    assert "reading the rollouts failed" in caplog.text
