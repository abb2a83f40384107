"""The data capability's service (embedded and the server's side) and ``client.datasets``."""

from __future__ import annotations

from gnomon._types import Scope
from gnomon.data.api import DatasetsApi
from gnomon.services import ServiceRegistry


def build(services: ServiceRegistry) -> None:
    if services.database is None:
        return  # datasets through a server: not offered yet (client.datasets says so)
    from gnomon.data.client import DatasetClient
    from gnomon.data.hashing import DIGEST_CACHE, DigestCache
    from gnomon.data.service import DatasetService
    from gnomon.data.sql import SqlDatasetStore

    settings = services.settings
    cache = DigestCache(settings.home / DIGEST_CACHE)
    artifacts = services.artifact_store(settings.artifact_root)
    datasets = DatasetService(SqlDatasetStore(services.database), artifacts, cache)
    datasets.build_later = lambda: services.offers("registry")
    services.provide(DatasetService, datasets)

    def embedded(scope: Scope) -> DatasetsApi:
        return DatasetClient(datasets, scope, settings)

    services.expose("datasets", DatasetsApi, embedded)
