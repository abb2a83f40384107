"""Deployment wire models: defined once, used by the server routes and the HTTP client.

Names, model references, policies and ranges stay loose here and are checked by the service,
so a bad value gets the same message embedded and remote. Numbers and flags are strict: JSON
``true`` must not pass as a weight of 1, nor ``"yes"`` as a flag.
"""

from __future__ import annotations

from pydantic import Field

from gnomon.deployments.entities import (
    Action,
    Arm,
    ArmRole,
    Deployment,
    DeploymentEvent,
    ResolvedArm,
    Routing,
    ServingConfig,
)
from gnomon.predictions.outcomes import MAX_OUTCOMES_PER_REQUEST
from gnomon.wire import Text, Wire, WireBool, WireFloat, WireInt, WireJson


class ArmOut(Wire):
    model: str
    selector: str
    role: ArmRole
    weight: int

    def entity(self) -> Arm:
        return Arm(self.model, self.selector, self.role, self.weight)


class RoutingOut(Wire):
    arms: list[ArmOut]
    ab_key: str | None = None

    def entity(self) -> Routing:
        return Routing(tuple(arm.entity() for arm in self.arms), self.ab_key)


class ConfigBody(Wire):
    """A whole serving config; every field is required so a partial one cannot silently
    reset the fields it left out. ``batching`` null follows the model."""

    policy: Text
    batching: WireBool | None
    batch_max_rows: WireInt
    batch_wait_ms: WireFloat  # takes JSON integers too

    @classmethod
    def of(cls, config: ServingConfig) -> ConfigBody:
        return cls.model_validate(config.to_dict())

    def entity(self) -> ServingConfig:
        return ServingConfig(**self.model_dump())


class DeploymentOut(Wire):
    id: str
    workspace_id: str
    name: str
    description: str
    routing: RoutingOut
    config: ConfigBody
    revision: int
    created_time: int
    updated_time: int
    created_by: str

    def entity(self) -> Deployment:
        fields = self.model_dump(exclude={"routing", "config"})
        return Deployment(**fields, routing=self.routing.entity(), config=self.config.entity())


class DeploymentEventOut(Wire):
    deployment: str
    revision: int
    action: Action
    routing: RoutingOut
    config: ConfigBody
    actor: str
    time: int
    note: str

    def entity(self) -> DeploymentEvent:
        fields = self.model_dump(exclude={"routing", "config"})
        return DeploymentEvent(**fields, routing=self.routing.entity(), config=self.config.entity())


class ResolvedArmOut(Wire):
    arm: ArmOut
    version: int
    storage_uri: str

    def entity(self) -> ResolvedArm:
        return ResolvedArm(self.arm.entity(), self.version, self.storage_uri)


class ResolvedOut(Wire):
    """A deployment and the version each of its arms names now."""

    deployment: DeploymentOut
    arms: list[ResolvedArmOut]


# -- request bodies ----------------------------------------------------------------------------


class CreateDeployment(Wire):
    name: Text
    model: Text  # churn@production, churn/7, churn (the latest READY version)
    description: Text = ""
    config: ConfigBody | None = None  # None: the defaults


class SetRoute(Wire):
    """Route to ``model``: at most one of ``canary``, ``ab_key`` and ``shadow``; none of them
    makes it the primary."""

    model: Text
    canary: WireInt | None = None
    ab_key: Text | None = None
    ab_weight: WireInt = 50
    shadow: WireBool = False
    note: Text = ""


class Promote(Wire):
    model: Text | None = None  # None: the canary or A/B arm
    note: Text = ""


class Rollback(Wire):
    note: Text = ""


class UpdateDeployment(Wire):
    description: Text | None = None
    config: ConfigBody | None = None  # replaces the whole config
    note: Text = ""


class OutcomeIn(Wire):
    """Ground truth for one request; ``value`` is any JSON value but null (checked by the
    service, with the SDK's message)."""

    request_id: Text
    value: WireJson


class LogOutcomes(Wire):
    outcomes: list[OutcomeIn] = Field(max_length=MAX_OUTCOMES_PER_REQUEST)


class OutcomesLogged(Wire):
    accepted: int
