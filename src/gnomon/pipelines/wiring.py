"""The pipelines capability's services and ``client.pipelines`` in both modes."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gnomon._types import Scope
from gnomon.pipelines.api import PipelinesApi
from gnomon.services import ServiceRegistry

if TYPE_CHECKING:
    from gnomon.artifacts.store import ArtifactStore
    from gnomon.config import Settings
    from gnomon.pipelines.lineage import LineageService
    from gnomon.pipelines.prediction_lineage import PredictionLineageService
    from gnomon.pipelines.sql import SqlPipelineStore
    from gnomon.tracking.service import TrackingService


def build(services: ServiceRegistry) -> None:
    if services.database is None:
        from gnomon.pipelines.http import HttpPipelineClient

        transport = services.transport
        assert transport is not None  # one of the two is always set
        services.expose("pipelines", PipelinesApi, lambda _: HttpPipelineClient(transport))
        return
    from gnomon.pipelines.client import PipelineClient
    from gnomon.pipelines.lineage import LineageService
    from gnomon.pipelines.prediction_lineage import PredictionLineageService
    from gnomon.pipelines.service import PipelineService
    from gnomon.pipelines.sql import SqlPipelineStore
    from gnomon.tracking.service import TrackingService

    store = SqlPipelineStore(services.database)
    tracking = services.get(TrackingService)
    pipelines = PipelineService(store, tracking)
    lineage, predictions = _lineages(services, store, tracking)
    settings = services.settings
    services.provide(PipelineService, pipelines)
    services.provide(LineageService, lineage)
    services.provide(PredictionLineageService, predictions)

    def served(twin: ServiceRegistry) -> None:
        # The server's lineage reads datasets where the server enforces each dataset's
        # access list: a member left off it must not find the dataset through lineage.
        twin_lineage, twin_predictions = _lineages(twin, store, tracking)
        twin.provide(LineageService, twin_lineage)
        twin.provide(PredictionLineageService, twin_predictions)

    services.on_server(served)

    def embedded(scope: Scope) -> PipelinesApi:
        return PipelineClient(pipelines, lineage, scope, settings, predictions)

    services.expose("pipelines", PipelinesApi, embedded)
    _schedules(services, embedded)


def _lineages(
    services: ServiceRegistry, store: SqlPipelineStore, tracking: TrackingService
) -> tuple[LineageService, PredictionLineageService]:
    """Lineage over ``services``: built for `client.pipelines` alone (the manifest's
    `provides`), so what it reads of data, the registry and deployments is looked up there
    on first use."""
    from gnomon.pipelines.lineage import LineageService
    from gnomon.pipelines.prediction_lineage import PredictionLineageService

    datasets = _later(services, "gnomon.data.service", "DatasetService")
    registry = _later(services, "gnomon.registry.service", "RegistryService", required=True)
    deployments = _later(services, "gnomon.deployments.service", "DeploymentService")
    settings = services.settings
    return (
        LineageService(store, tracking, datasets, registry, deployments),
        PredictionLineageService(
            lambda scope: _predictions(settings, scope), tracking, datasets, registry
        ),
    )


def _predictions(settings: Settings, scope: Scope) -> ArtifactStore:
    """The workspace's prediction records, where its model servers write them."""
    from gnomon.predictions.storage import predictions_store

    return predictions_store(settings.artifact_root, scope.workspace, settings.s3_endpoint_url)


def _schedules(services: ServiceRegistry, pipelines: Callable[[Scope], PipelinesApi]) -> None:
    """Schedules, embedded only: the worker beside the database runs them, never a server."""
    from gnomon.pipelines.schedule_client import ScheduleClient
    from gnomon.pipelines.schedules import ScheduleService
    from gnomon.pipelines.schedules_sql import SqlScheduleStore

    assert services.database is not None
    schedules = ScheduleService(
        SqlScheduleStore(services.database),
        pipelines,
        _later(services, "gnomon.data.service", "DatasetService"),
        _later(services, "gnomon.monitoring.service", "MonitorService"),
    )
    services.provide(ScheduleService, schedules)
    services.expose("schedules", ScheduleClient, lambda scope: ScheduleClient(schedules, scope))


def _later(services: ServiceRegistry, module: str, kind: str, *, required: bool = False) -> Any:
    """A lookup of another capability's service ``module:kind``, built (and its module
    imported) on the first call and kept: ``get`` when ``required``, else ``find`` (maybe
    None, once every capability is built)."""
    found: list[object] = []

    def lookup() -> object:
        if not found:
            cls = getattr(importlib.import_module(module), kind)
            found.append(services.get(cls) if required else services.find(cls))
        return found[0]

    return lookup
