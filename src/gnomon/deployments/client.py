"""``client.deployments``: deployments through the SDK, bound to the client's workspace.

``HttpDeploymentClient`` (remote mode) mirrors this class method for method.
"""

from __future__ import annotations

from gnomon._types import Scope
from gnomon.deployments.entities import Deployment, DeploymentEvent, ResolvedArm, ServingConfig
from gnomon.deployments.service import DeploymentService


class DeploymentClient:
    def __init__(self, service: DeploymentService, scope: Scope) -> None:
        self.service = service
        self.scope = scope

    def create(
        self,
        name: str,
        model: str,
        *,
        description: str = "",
        config: ServingConfig | None = None,
    ) -> Deployment:
        """A deployment serving ``model`` (``churn@production`` or ``churn/7``) to all traffic."""
        return self.service.create(self.scope, name, model, description=description, config=config)

    def get(self, name: str) -> Deployment:
        return self.service.get(self.scope, name)

    def list(self) -> list[Deployment]:
        return self.service.list(self.scope)

    def set_route(
        self,
        name: str,
        model: str,
        *,
        canary: int | None = None,
        ab_key: str | None = None,
        ab_weight: int = 50,
        shadow: bool = False,
        note: str = "",
    ) -> Deployment:
        """Route to ``model`` as a canary, an A/B arm, a shadow, or (none given) the primary."""
        return self.service.set_route(
            self.scope,
            name,
            model,
            canary=canary,
            ab_key=ab_key,
            ab_weight=ab_weight,
            shadow=shadow,
            note=note,
        )

    def remove_route(self, name: str, model: str, note: str = "") -> Deployment:
        return self.service.remove_route(self.scope, name, model, note)

    def promote(self, name: str, model: str | None = None, note: str = "") -> Deployment:
        return self.service.promote(self.scope, name, model, note)

    def rollback(self, name: str, note: str = "") -> Deployment:
        return self.service.rollback(self.scope, name, note)

    def update(
        self,
        name: str,
        *,
        description: str | None = None,
        config: ServingConfig | None = None,
        note: str = "",
    ) -> Deployment:
        return self.service.update(
            self.scope, name, description=description, config=config, note=note
        )

    def history(self, name: str) -> list[DeploymentEvent]:
        return self.service.history(self.scope, name)

    def delete(self, name: str) -> None:
        self.service.delete(self.scope, name)

    def resolve(self, name: str) -> tuple[Deployment, list[ResolvedArm]]:
        """The deployment and the version each arm names now (what a server loads)."""
        return self.service.resolve(self.scope, name)
