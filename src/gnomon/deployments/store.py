"""The DeploymentStore protocol: what the service needs from a backend."""

from __future__ import annotations

from typing import Protocol

from gnomon._types import Scope
from gnomon.deployments.entities import (
    Action,
    Deployment,
    DeploymentEvent,
    Routing,
    ServingConfig,
)


class DeploymentStore(Protocol):
    def create(
        self,
        scope: Scope,
        name: str,
        description: str,
        routing: Routing,
        config: ServingConfig,
    ) -> Deployment:
        """Insert revision 1 and its CREATE event. Raises AlreadyExists."""
        ...

    def get(self, scope: Scope, name: str) -> Deployment:
        """Raises NotFound."""
        ...

    def change(
        self,
        scope: Scope,
        name: str,
        expected_revision: int,
        action: Action,
        routing: Routing,
        config: ServingConfig,
        description: str,
        note: str = "",
    ) -> Deployment:
        """Write the next revision and its event, if the deployment is still at
        ``expected_revision``. Raises NotFound, or Conflict when another change came first."""
        ...

    def events(self, scope: Scope, name: str) -> list[DeploymentEvent]:
        """The history, oldest first. Raises NotFound."""
        ...

    def event(self, scope: Scope, name: str, revision: int) -> DeploymentEvent:
        """The event that wrote ``revision``. Raises NotFound, naming the deployment or the
        revision."""
        ...

    def delete(self, scope: Scope, name: str) -> None:
        """Raises NotFound."""
        ...

    # Last in the class: a method named ``list`` shadows the builtin for the annotations
    # after it (mypy reads ``list[...]`` below it as this method).
    def list(self, scope: Scope) -> list[Deployment]:
        """Every deployment of the workspace, by name."""
        ...
