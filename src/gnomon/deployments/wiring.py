"""The deployments capability's service (embedded and the server's side), and
``client.deployments`` in both modes."""

from __future__ import annotations

from gnomon._types import Scope
from gnomon.deployments.api import DeploymentsApi
from gnomon.services import ServiceRegistry


def build(services: ServiceRegistry) -> None:
    if services.database is None:
        from gnomon.deployments.http import HttpDeploymentClient

        transport = services.transport
        assert transport is not None  # one of the two is always set
        services.expose("deployments", DeploymentsApi, lambda _: HttpDeploymentClient(transport))
        return
    from gnomon.deployments.client import DeploymentClient
    from gnomon.deployments.service import DeploymentService
    from gnomon.deployments.sql import SqlDeploymentStore
    from gnomon.registry.service import RegistryService

    registry = services.get(RegistryService)
    deployments = DeploymentService(SqlDeploymentStore(services.database), registry)
    services.provide(DeploymentService, deployments)

    def embedded(scope: Scope) -> DeploymentsApi:
        return DeploymentClient(deployments, scope, services.settings)

    services.expose("deployments", DeploymentsApi, embedded)
