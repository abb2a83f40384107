"""The closed loop's objects: policies, their firings, rollouts, their stages and decisions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from gnomon.automation.spec import Limits, PolicySpec

FiringStatus = Literal[
    "retraining", "gating", "rejected", "rolling_out", "promoted", "rolled_back", "aborted",
    "failed", "no_candidate",
]  # fmt: skip
RolloutState = Literal["running", "awaiting_approval", "promoted", "rolled_back", "aborted"]
StageKind = Literal["smoke", "shadow", "approval", "canary", "promote"]
Action = Literal["start", "advance", "hold", "extend", "approve", "promote", "rollback", "abort"]
ENDED_FIRINGS = ("rejected", "promoted", "rolled_back", "aborted", "failed", "no_candidate")
ENDED_ROLLOUTS = ("promoted", "rolled_back", "aborted")


@dataclass(frozen=True, slots=True)
class Policy:
    """A schedule's triggers and pipeline, and what follows each run: gate, risk, rollout."""

    id: str
    name: str
    version: int
    schedule: str  # the schedule that fires it (same name)
    pipeline: str
    params: dict[str, Any]
    triggers: list[str]
    paused: bool
    spec: PolicySpec
    created_by: str
    created_time: int
    updated_time: int


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    policy: str
    version: int
    spec: dict[str, Any]
    note: str
    created_by: str
    created_time: int


@dataclass(frozen=True, slots=True)
class Firing:
    """One retraining a policy started: its pipeline run, candidate, gate, risk, rollout."""

    id: str
    policy: str
    policy_version: int
    tick: str
    model: str
    status: FiringStatus
    pipeline_run_id: str | None
    candidate_version: int | None
    champion_version: int | None
    gate: dict[str, Any] | None
    risk: dict[str, Any] | None
    rollout_id: str | None
    message: str | None
    started_ms: int
    updated_ms: int

    @property
    def open(self) -> bool:
        return self.status not in ENDED_FIRINGS


@dataclass(frozen=True, slots=True)
class Stage:
    """One step of a plan: ``canary`` at ``weight`` percent held ``hold_s`` seconds with at
    least ``min_requests`` answers of the candidate; ``shadow`` until ``min_requests`` copies
    or ``hold_s``; ``smoke`` answers sample rows in the controller; ``approval`` waits for a
    person; ``promote`` makes the candidate the primary."""

    kind: StageKind
    weight: int = 0
    hold_s: float = 0.0
    min_requests: int = 0

    def describe(self) -> str:
        if self.kind == "canary":
            return f"canary {self.weight}%"
        return self.kind


@dataclass(frozen=True, slots=True)
class Plan:
    strategy: str
    stages: tuple[Stage, ...]
    limits: Limits = field(default_factory=Limits)
    metric: str = "accuracy"  # compared on outcomes (the gate's primary metric)
    model_type: str = "classifier"
    sample: str | None = None  # a dataset version whose rows the smoke test predicts on
    target: str | None = None  # its label column, left out of those rows
    alias: str | None = None  # moved to the candidate when it is promoted

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        stages = tuple(Stage(**stage) for stage in data["stages"])
        return cls(
            data["strategy"],
            stages,
            Limits(**data["limits"]),
            data["metric"],
            data["model_type"],
            data.get("sample"),
            data.get("target"),
            data.get("alias"),
        )


@dataclass(frozen=True, slots=True)
class Decision:
    seq: int
    at_ms: int
    stage: int
    action: Action
    reason: str
    figures: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rollout:
    id: str
    deployment: str
    model: str
    candidate_version: int
    champion_version: int | None
    firing_id: str | None
    risk: dict[str, Any]
    plan: Plan
    stage: int
    state: RolloutState
    stage_started_ms: int
    extensions: int
    created_by: str
    created_ms: int
    updated_ms: int
    decisions: tuple[Decision, ...] = ()

    @property
    def candidate(self) -> str:
        """How the deployment names the candidate's arm: ``model/7``."""
        return f"{self.model}/{self.candidate_version}"

    @property
    def current(self) -> Stage | None:
        return self.plan.stages[self.stage] if self.stage < len(self.plan.stages) else None

    @property
    def ended(self) -> bool:
        return self.state in ENDED_ROLLOUTS


__all__ = [
    "ENDED_FIRINGS",
    "ENDED_ROLLOUTS",
    "Decision",
    "Firing",
    "Plan",
    "Policy",
    "PolicyVersion",
    "Rollout",
    "Stage",
]
