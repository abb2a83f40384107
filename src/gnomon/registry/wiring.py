"""The registry capability's services: the registry service and the registrar that moves
model files (embedded and the server's side), and ``client.registry`` in both modes."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from gnomon._types import Scope
from gnomon.registry.api import RegistryApi
from gnomon.services import ServiceRegistry

if TYPE_CHECKING:
    from gnomon.data.entities import ModelUse
    from gnomon.store.database import Database


def build(services: ServiceRegistry) -> None:
    if services.database is None:
        from gnomon.registry.http import HttpRegistryClient

        transport = services.transport
        assert transport is not None  # one of the two is always set
        services.expose("registry", RegistryApi, lambda _: HttpRegistryClient(transport))
        return
    from gnomon.data.model_uses import ModelsOfRuns
    from gnomon.registry.client import RegistryClient
    from gnomon.registry.registration import Registrar
    from gnomon.registry.service import RegistryService
    from gnomon.registry.sql import SqlRegistryStore
    from gnomon.tracking.service import LoggedModelPaths, TrackingService

    registry = RegistryService(SqlRegistryStore(services.database))
    tracking = services.get(TrackingService)
    root = services.settings.artifact_root
    registrar = Registrar(tracking, registry, root, services.artifact_store)
    services.provide(RegistryService, registry)
    services.provide(Registrar, registrar)
    services.provide(LoggedModelPaths, registry.logged_model_paths)  # tracking seals them
    services.provide(ModelsOfRuns, partial(_models_of_runs, services.database))
    # Loading a model unpickles bytes an editor chose: never inside the API server.
    services.on_server(lambda twin: twin.provide(Registrar, registrar.without_load_check()))

    def embedded(scope: Scope) -> RegistryApi:
        return RegistryClient(registry, services.get(Registrar), scope)

    services.expose("registry", RegistryApi, embedded)


def _models_of_runs(db: Database, scope: Scope, run_ids: Sequence[str]) -> list[ModelUse]:
    """``gnomon data used-by``'s model versions (lineage.py: loaded only when asked)."""
    from gnomon.registry.lineage import versions_of_runs

    return versions_of_runs(db, scope, run_ids)
