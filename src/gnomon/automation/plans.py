"""From a change's risk to the stages of its rollout, as the policy maps them:

- ``direct``: a smoke test (the candidate answers sample rows), then all traffic;
- ``canary``: the smoke test, then each canary step held for its time, then all traffic;
- ``shadow``: the smoke test, a copy of live traffic until enough answers were compared
  (or the time is up), then the canary steps, then all traffic.

A risk level the policy lists under ``approval`` waits for a person before live traffic.
"""

from __future__ import annotations

from gnomon.automation.entities import Plan, Stage
from gnomon.automation.spec import GateSpec, RolloutSpec
from gnomon.pipelines.components.gate import PRIMARY_METRIC


def plan_for(
    risk: str,
    rollout: RolloutSpec,
    gate: GateSpec | None = None,
    strategy: str | None = None,
    alias: str | None = None,
) -> Plan:
    """The plan for a change of ``risk``; ``strategy`` overrides the policy's choice, and
    ``alias`` is moved to the candidate when it is promoted."""
    chosen = strategy or rollout.strategies[risk]
    stages = [Stage("smoke", min_requests=rollout.smoke_rows)]
    if chosen == "shadow":
        stages.append(
            Stage("shadow", hold_s=rollout.shadow_max_s, min_requests=rollout.shadow_requests)
        )
    if risk in rollout.approval:
        stages.append(Stage("approval"))
    if chosen in ("canary", "shadow"):
        stages += [
            Stage("canary", w, rollout.hold_s, rollout.min_requests) for w in rollout.canary_steps
        ]
    stages.append(Stage("promote"))
    if gate is None:
        return Plan(chosen, tuple(stages), rollout.limits, alias=alias)
    return Plan(
        chosen,
        tuple(stages),
        rollout.limits,
        gate_metric(gate),
        gate.model_type,
        gate.holdout,
        gate.target,
        alias,
    )


def gate_metric(gate: GateSpec) -> str:
    """The metric live outcomes are compared on: the gate's first threshold's, or the
    model type's usual one."""
    return next(iter(gate.thresholds), None) or PRIMARY_METRIC.get(gate.model_type, "accuracy")


__all__ = ["gate_metric", "plan_for"]
