"""The candidate's share of live traffic, read from a rollout's plan and state, and its
history replayed from the decisions: what the UI charts and the Prometheus gauge reports.

A stage's routing is applied as the rollout enters it, so the share after a decision is the
weight of the stage the rollout is in then: a canary step's percentage, all of it once
promoted, none during the smoke test, a shadow (copies, not answers), an approval, or after
a rollback or an abort.
"""

from __future__ import annotations

from gnomon.automation.entities import Decision, Plan, Rollout

_ADVANCING = ("advance", "approve")
_ENDING = {"promote": "promoted", "rollback": "rolled_back", "abort": "aborted"}


def candidate_weight(plan: Plan, stage: int, state: str) -> int:
    """The candidate's percentage of live answers at ``stage`` (an index into the plan's
    stages) in ``state``."""
    if state == "promoted":
        return 100
    if state in ("rolled_back", "aborted") or not 0 <= stage < len(plan.stages):
        return 0
    current = plan.stages[stage]
    if current.kind == "canary":
        return current.weight
    return 100 if current.kind == "promote" else 0


def weight_after(plan: Plan, decision: Decision) -> int:
    """The candidate's share once ``decision`` was taken."""
    if decision.action in _ENDING:
        return candidate_weight(plan, decision.stage, _ENDING[decision.action])
    stage = decision.stage + 1 if decision.action in _ADVANCING else decision.stage
    if decision.action == "start":
        stage = 0
    return candidate_weight(plan, stage, "running")


def weight_history(rollout: Rollout) -> list[tuple[int, int]]:
    """``(time in ms, share in percent)`` at each decision that changed the share, the
    start included; two decisions of the same millisecond keep the later one's share."""
    history: list[tuple[int, int]] = []
    for decision in rollout.decisions:
        weight = weight_after(rollout.plan, decision)
        if history and history[-1][0] == decision.at_ms:
            history[-1] = (decision.at_ms, weight)
        elif not history or history[-1][1] != weight:
            history.append((decision.at_ms, weight))
    if len(history) > 1 and history[-1][1] == history[-2][1]:
        history.pop()  # a same-millisecond overwrite that came back to the previous share
    return history


__all__ = ["candidate_weight", "weight_after", "weight_history"]
