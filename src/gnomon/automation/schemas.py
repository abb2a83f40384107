"""The closed loop's wire: rollouts (their plan, stages and decisions) and policies (their
spec, versions and firings), defined once for ``routes.py`` and ``http.py``.

Names, risk levels, strategies and ranges stay loose here, only bounded, and are checked by
``starting.start_rollout`` and the services, so a bad value gets the same message embedded
and remote. Numbers are strict: JSON ``true`` is not a version of 1.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from annotated_types import MaxLen
from pydantic import Field

from gnomon.automation.entities import (
    Decision,
    Firing,
    FiringStatus,
    Plan,
    Policy,
    PolicyVersion,
    Rollout,
    Stage,
)
from gnomon.automation.spec import Limits, PolicySpec
from gnomon.wire import Text, Wire, WireFloat, WireInt

Loose = Annotated[Text, MaxLen(1024)]  # a name or a level, checked by the service
Word = Annotated[Text, MaxLen(64)]  # a risk level or a strategy
MAX_REASON = 4096  # an abort's reason (its decision keeps the first 500 characters)


class StartRollout(Wire):
    deployment: Loose
    model: Loose
    version: WireInt
    risk: Word = "auto"
    strategy: Word | None = None
    canary_steps: Annotated[list[WireInt], MaxLen(100)] = Field(default_factory=lambda: [10, 50])
    hold_s: WireFloat = 300.0
    min_requests: WireInt = 100
    alias: Loose | None = "production"


class AbortRollout(Wire):
    reason: Annotated[Text, MaxLen(MAX_REASON)] = ""


class StageOut(Wire):
    kind: str
    weight: int
    hold_s: float
    min_requests: int

    def entity(self) -> Stage:
        return Stage(cast(Any, self.kind), self.weight, self.hold_s, self.min_requests)


class LimitsOut(Wire):
    max_error_rate: float
    max_p99_ratio: float
    max_metric_drop: float | None
    min_agreement: float


class PlanOut(Wire):
    strategy: str
    stages: list[StageOut]
    limits: LimitsOut
    metric: str
    model_type: str
    sample: str | None
    target: str | None
    alias: str | None

    def entity(self) -> Plan:
        return Plan(
            self.strategy,
            tuple(stage.entity() for stage in self.stages),
            Limits(**self.limits.model_dump()),
            self.metric,
            self.model_type,
            self.sample,
            self.target,
            self.alias,
        )


class DecisionOut(Wire):
    seq: int
    at_ms: int
    stage: int
    action: str
    reason: str
    figures: dict[str, Any]

    def entity(self) -> Decision:
        return Decision(
            self.seq, self.at_ms, self.stage, cast(Any, self.action), self.reason, self.figures
        )


class RolloutOut(Wire):
    id: str
    deployment: str
    model: str
    candidate_version: int
    champion_version: int | None
    firing_id: str | None
    risk: dict[str, Any]
    plan: PlanOut
    stage: int
    state: str
    stage_started_ms: int
    extensions: int
    created_by: str
    created_ms: int
    updated_ms: int
    decisions: list[DecisionOut]

    def entity(self) -> Rollout:
        fields = self.model_dump(exclude={"plan", "decisions"})
        return Rollout(
            **fields,
            plan=self.plan.entity(),
            decisions=tuple(d.entity() for d in self.decisions),
        )


class PolicyOut(Wire):
    id: str
    name: str
    version: int
    schedule: str
    pipeline: str
    params: dict[str, Any]
    triggers: list[str]
    paused: bool
    spec: dict[str, Any]  # as stored: PolicySpec.to_dict()
    created_by: str
    created_time: int
    updated_time: int

    @classmethod
    def of(cls, policy: Policy) -> PolicyOut:
        fields = {name: getattr(policy, name) for name in cls.model_fields if name != "spec"}
        return cls(**fields, spec=policy.spec.to_dict())

    def entity(self) -> Policy:
        fields = self.model_dump(exclude={"spec"})
        return Policy(**fields, spec=PolicySpec.from_dict(self.spec))


class PolicyVersionOut(Wire):
    policy: str
    version: int
    spec: dict[str, Any]
    note: str
    created_by: str
    created_time: int

    def entity(self) -> PolicyVersion:
        return PolicyVersion(**self.model_dump())


class FiringOut(Wire):
    id: str
    policy: str
    policy_version: int
    tick: str
    model: str
    status: str
    pipeline_run_id: str | None
    candidate_version: int | None
    champion_version: int | None
    gate: dict[str, Any] | None
    risk: dict[str, Any] | None
    rollout_id: str | None
    message: str | None
    started_ms: int
    updated_ms: int

    def entity(self) -> Firing:
        fields = self.model_dump(exclude={"status"})
        return Firing(**fields, status=cast(FiringStatus, self.status))


__all__ = [
    "MAX_REASON",
    "AbortRollout",
    "DecisionOut",
    "FiringOut",
    "PlanOut",
    "PolicyOut",
    "PolicyVersionOut",
    "RolloutOut",
    "StartRollout",
]
