"""``client.deployments``: deployments through the SDK, bound to the client's workspace.

``HttpDeploymentClient`` (remote mode) mirrors this class method for method.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gnomon._types import Scope
from gnomon.artifacts import ArtifactStore
from gnomon.config import Settings
from gnomon.deployments.entities import Deployment, DeploymentEvent, ResolvedArm, ServingConfig
from gnomon.deployments.outcomes import serving_store
from gnomon.deployments.service import DeploymentService

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.deployments.outcomes import OutcomesInput


class DeploymentClient:
    """``settings`` name the workspace and artifact root whose serving store holds the
    records and outcomes (default: from the environment)."""

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
        """A deployment serving ``model`` (``churn@production`` or ``churn/7``) to all traffic."""
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

    def log_outcomes(self, name: str, outcomes: OutcomesInput) -> int:
        """Record ground truth for requests ``name`` answered; the number accepted.

        Args:
            name: the deployment.
            outcomes: request id → value, a list of ``{"request_id", "value"}`` dicts, or a
                DataFrame with ``request_id`` and ``value`` columns; at most 100,000.

        Returns:
            How many were written (durably, before this returns).

        Raises:
            InvalidInput: a request id that is not a non-empty string, a missing value, or
                too many (the message names the first bad item's index).
            NotFound: no such deployment.

        Example:
            >>> client.deployments.log_outcomes("web", {"5f1c…": 1, "9ab0…": 0})
        """
        return self.service.log_outcomes(self.scope, self._serving(), name, outcomes)

    def records(
        self, name: str, *, with_outcomes: bool = True, limit: int | None = None
    ) -> pd.DataFrame:
        """``name``'s prediction records, oldest first: the newest ``limit`` (all: ``None``),
        joined with their outcomes (``outcome``, ``outcome_time``) when ``with_outcomes``.

        Raises:
            InvalidInput: a limit that is not a positive integer.
            NotFound: no such deployment.
        """
        return self.service.records(
            self.scope, self._serving(), name, with_outcomes=with_outcomes, limit=limit
        )

    def _serving(self) -> ArtifactStore:
        settings = self.settings or Settings()
        return serving_store(settings.artifact_root, settings.workspace, settings.s3_endpoint_url)

    # Last in the class: a method named ``list`` shadows the builtin for the annotations
    # after it (mypy reads ``list[...]`` below it as this method).
    def list(self) -> list[Deployment]:
        return self.service.list(self.scope)
