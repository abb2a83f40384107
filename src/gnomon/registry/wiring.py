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
    from gnomon.registry.registration import Registrar
    from gnomon.registry.service import RegistryService
    from gnomon.store.database import Database


def build(services: ServiceRegistry) -> None:
    if services.database is None:
        from gnomon.registry.http import HttpRegistryClient

        transport = services.transport
        assert transport is not None  # one of the two is always set
        services.expose("registry", RegistryApi, lambda _: HttpRegistryClient(transport))
        return
    from gnomon.data.model_uses import ModelsOfRuns
    from gnomon.registry.sealed import logged_model_paths
    from gnomon.tracking.service import LoggedModelPaths

    database = services.database
    # Tracking asks for the sealed paths on a run's first artifact write; the service, its
    # store and the registrar (30 ms of imports) are made when something asks for them.
    services.provide(LoggedModelPaths, partial(logged_model_paths, database))
    services.provide(ModelsOfRuns, partial(_models_of_runs, database))
    services.provide_later("RegistryService", partial(_registry_service, database))
    services.provide_later("Registrar", partial(_registrar, services))
    services.on_server(_server_registrar)

    def embedded(scope: Scope) -> RegistryApi:
        from gnomon.registry.client import RegistryClient
        from gnomon.registry.registration import Registrar
        from gnomon.registry.service import RegistryService

        return RegistryClient(services.get(RegistryService), services.get(Registrar), scope)

    services.expose("registry", RegistryApi, embedded)


def _registry_service(db: Database) -> RegistryService:
    from gnomon.registry.service import RegistryService
    from gnomon.registry.sql import SqlRegistryStore

    return RegistryService(SqlRegistryStore(db))


def _registrar(services: ServiceRegistry) -> Registrar:
    from gnomon.registry.registration import Registrar
    from gnomon.registry.service import RegistryService
    from gnomon.tracking.service import TrackingService

    tracking, registry = services.get(TrackingService), services.get(RegistryService)
    return Registrar(tracking, registry, services.settings.artifact_root, services.artifact_store)


def _server_registrar(twin: ServiceRegistry) -> None:
    from gnomon.registry.registration import Registrar

    # Loading a model unpickles bytes an editor chose: never inside the API server.
    twin.provide(Registrar, twin.get(Registrar).without_load_check())


def _models_of_runs(db: Database, scope: Scope, run_ids: Sequence[str]) -> list[ModelUse]:
    """``gnomon data used-by``'s model versions (lineage.py: loaded only when asked)."""
    from gnomon.registry.lineage import versions_of_runs

    return versions_of_runs(db, scope, run_ids)
