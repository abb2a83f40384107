"""The data capability's service (embedded and the server's side) and ``client.datasets``."""

from __future__ import annotations

import copy

from gnomon._types import Scope
from gnomon.data.api import DatasetsApi
from gnomon.services import ServiceRegistry


def build(services: ServiceRegistry) -> None:
    if services.database is None:
        from gnomon.data.http import HttpDatasetClient

        transport = services.transport
        assert transport is not None  # one of the two is always set
        settings = services.settings

        def remote(_: Scope) -> DatasetsApi:
            return HttpDatasetClient(transport, settings.home, settings.s3_endpoint_url)

        services.expose("datasets", DatasetsApi, remote)
        return
    from gnomon.data.client import DatasetClient
    from gnomon.data.hashing import DIGEST_CACHE, DigestCache
    from gnomon.data.model_uses import ModelsOfRuns
    from gnomon.data.service import DatasetService
    from gnomon.data.sql import SqlDatasetStore

    settings = services.settings
    cache = DigestCache(settings.home / DIGEST_CACHE)
    artifacts = services.artifact_store(settings.artifact_root)
    datasets = DatasetService(SqlDatasetStore(services.database), artifacts, cache)
    datasets.find_models_of_runs = lambda: services.find(ModelsOfRuns)
    services.provide(DatasetService, datasets)

    def restricting(twin: ServiceRegistry) -> None:
        # The server's copy enforces each dataset's access list; embedded has no users.
        server_side = copy.copy(datasets)
        server_side.restricted = True
        twin.provide(DatasetService, server_side)

    services.on_server(restricting)

    def embedded(scope: Scope) -> DatasetsApi:
        return DatasetClient(datasets, scope, settings)

    services.expose("datasets", DatasetsApi, embedded)
