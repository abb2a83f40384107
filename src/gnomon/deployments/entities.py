"""Deployment entities: plain frozen values, the same in embedded and remote mode.

A deployment's routing is a small list of arms. The live arms (the primary and at most one
candidate, a canary or an A/B arm) share 100% of the traffic by weight; shadow arms get a copy
of every request and their answers are recorded, never returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from gnomon.errors import InvalidInput


class ArmRole(StrEnum):
    PRIMARY = "primary"
    CANARY = "canary"  # weighted random share of requests
    AB = "ab"  # sticky share: the same value of the A/B key always gets the same arm
    SHADOW = "shadow"  # a copy of every request; answers recorded, never returned


class Action(StrEnum):
    CREATE = "create"
    SET_ROUTE = "set_route"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    UPDATE = "update"


@dataclass(frozen=True, slots=True)
class Arm:
    """One model version in a deployment. ``selector`` is what was asked for: a version number
    (``"7"``) or an alias (``"production"``), which servers follow when it moves."""

    model: str
    selector: str
    role: ArmRole
    weight: int = 0  # percent of live traffic; 0 for shadows

    @property
    def uri(self) -> str:
        # "latest" is a path selector, not an alias: models:/churn@latest does not parse.
        if (self.selector.isascii() and self.selector.isdigit()) or self.selector == "latest":
            return f"models:/{self.model}/{self.selector}"
        return f"models:/{self.model}@{self.selector}"

    @property
    def ref(self) -> str:
        """``name/7`` or ``name@alias``: how the CLI names it."""
        return self.uri.removeprefix("models:/")

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "selector": self.selector,
            "role": self.role.value,
            "weight": self.weight,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Arm:
        return cls(
            str(data["model"]), str(data["selector"]), ArmRole(data["role"]), int(data["weight"])
        )


@dataclass(frozen=True, slots=True)
class Routing:
    """The arms of a deployment; ``ab_key`` is the request field or header an A/B split uses."""

    arms: tuple[Arm, ...]
    ab_key: str | None = None

    @property
    def primary(self) -> Arm:
        return next(arm for arm in self.arms if arm.role is ArmRole.PRIMARY)

    @property
    def candidate(self) -> Arm | None:
        """The canary or A/B arm, if one is live."""
        return next((arm for arm in self.arms if arm.role in (ArmRole.CANARY, ArmRole.AB)), None)

    @property
    def live(self) -> tuple[Arm, ...]:
        return tuple(arm for arm in self.arms if arm.role is not ArmRole.SHADOW)

    @property
    def shadows(self) -> tuple[Arm, ...]:
        return tuple(arm for arm in self.arms if arm.role is ArmRole.SHADOW)

    def to_dict(self) -> dict[str, Any]:
        return {"arms": [arm.to_dict() for arm in self.arms], "ab_key": self.ab_key}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Routing:
        return cls(tuple(Arm.from_dict(arm) for arm in data["arms"]), data.get("ab_key"))

    @classmethod
    def single(cls, model: str, selector: str) -> Routing:
        return cls((Arm(model, selector, ArmRole.PRIMARY, 100),))

    def with_primary_weight(self) -> Routing:
        """The primary's weight set to what the candidate leaves."""
        candidate = self.candidate
        rest = 100 - (candidate.weight if candidate else 0)
        arms = tuple(replace(a, weight=rest) if a.role is ArmRole.PRIMARY else a for a in self.arms)
        return replace(self, arms=arms)


@dataclass(frozen=True, slots=True)
class ServingConfig:
    """How servers of a deployment treat requests: the contract policy and adaptive batching.

    ``batching`` ``None`` follows the model (off for models that declare they must not be
    batched, on otherwise); ``True``/``False`` forces it.
    """

    policy: str = "reject"
    batching: bool | None = None
    batch_max_rows: int = 64
    batch_wait_ms: float = 2.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "batching": self.batching,
            "batch_max_rows": self.batch_max_rows,
            "batch_wait_ms": self.batch_wait_ms,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServingConfig:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


@dataclass(frozen=True, slots=True)
class Deployment:
    """A named endpoint. ``revision`` grows by one with every change of routing or config,
    so a server knows it has something to load by comparing one number."""

    id: str
    workspace_id: str
    name: str
    description: str
    routing: Routing
    config: ServingConfig
    revision: int
    created_time: int
    updated_time: int
    created_by: str


@dataclass(frozen=True, slots=True)
class DeploymentEvent:
    """One change: the routing and config in force from ``revision`` on."""

    deployment: str
    revision: int
    action: Action
    routing: Routing
    config: ServingConfig
    actor: str
    time: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class ResolvedArm:
    """An arm with the version its selector names right now."""

    arm: Arm
    version: int
    storage_uri: str = field(default="", compare=False)


def check_weight(weight: int) -> int:
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 99:
        raise InvalidInput(f"weight must be a whole percentage from 1 to 99, got {weight!r}")
    return weight
