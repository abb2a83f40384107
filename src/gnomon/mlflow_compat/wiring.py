"""The MLflow capability's services: its logged models, where there is a metadata database
(the server, or embedded); a remote client reaches them through the server's MLflow API."""

from __future__ import annotations

from gnomon.mlflow_compat.logged_models import LoggedModelService
from gnomon.services import ServiceRegistry
from gnomon.tracking.service import TrackingService


def build(services: ServiceRegistry) -> None:
    if services.database is None:
        return
    service = LoggedModelService(
        services.database,
        services.get(TrackingService),
        services.settings.artifact_root,
        services.artifact_store,
    )
    services.provide(LoggedModelService, service)
