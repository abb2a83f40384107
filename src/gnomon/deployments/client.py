"""DeploymentClient: ``client.deployments`` embedded, the deployment service bound to the
client's scope (the contract is documented on :class:`gnomon.deployments.api.DeploymentsApi`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gnomon._types import Scope
from gnomon.artifacts import ArtifactStore
from gnomon.config import Settings
from gnomon.deployments.entities import Deployment, DeploymentEvent, ResolvedArm, ServingConfig
from gnomon.deployments.service import DeploymentService
from gnomon.predictions.storage import predictions_store

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.predictions.outcomes import OutcomesInput


class DeploymentClient:
    """``settings`` name the artifact root whose predictions store, for the scope's
    workspace, holds the records and outcomes (default: from the environment)."""

    def __init__(
        self, service: DeploymentService, scope: Scope, settings: Settings | None = None
    ) -> None:
        self.service = service
        self.scope = scope
        self.settings = settings

    def create(
        self,
        name: str,
        model: str,
        *,
        description: str = "",
        config: ServingConfig | None = None,
    ) -> Deployment:
        return self.service.create(self.scope, name, model, description=description, config=config)

    def get(self, name: str) -> Deployment:
        return self.service.get(self.scope, name)

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
        return self.service.resolve(self.scope, name)

    def log_outcomes(self, name: str, outcomes: OutcomesInput) -> int:
        return self.service.log_outcomes(self.scope, self._serving(), name, outcomes)

    def records(
        self, name: str, *, with_outcomes: bool = True, limit: int | None = None
    ) -> pd.DataFrame:
        return self.service.records(
            self.scope, self._serving(), name, with_outcomes=with_outcomes, limit=limit
        )

    def _serving(self) -> ArtifactStore:
        settings = self.settings or Settings()
        endpoint = settings.s3_endpoint_url
        return predictions_store(
            settings.artifact_root,
            self.scope.workspace,
            endpoint,
            workspace_name=settings.workspace,
        )

    # Last in the class: a method named ``list`` shadows the builtin for the annotations
    # after it (mypy reads ``list[...]`` below it as this method).
    def list(self) -> list[Deployment]:
        return self.service.list(self.scope)
