"""The features capability's services: the registry and the feature store beside the
metadata database (embedded, and the server's side), or through a server (remote)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from gnomon._types import Scope
from gnomon.services import ServiceRegistry

DATASET_CACHE = Path("cache") / "feature-datasets"  # under GNOMON_HOME: checked-out versions


def build(services: ServiceRegistry) -> None:
    if services.database is None:
        _remote(services)
        return
    from gnomon.data.service import DatasetService
    from gnomon.features.client import RegistryClient
    from gnomon.features.registry_api import FeatureRegistryApi
    from gnomon.features.service import FeatureRegistry
    from gnomon.features.sql import SqlFeatureStore

    registry = FeatureRegistry(
        SqlFeatureStore(services.database),
        services.find(DatasetService),
        services.settings.home / DATASET_CACHE,
    )
    services.provide(FeatureRegistry, registry)

    def embedded(scope: Scope) -> FeatureRegistryApi:
        return RegistryClient(registry, scope)

    services.expose("feature_registry", FeatureRegistryApi, embedded)
    _feature_store(services, registry)


def _remote(services: ServiceRegistry) -> None:
    """``client.feature_registry`` and ``client.features`` through a server; the definitions'
    sources are read in this process (a dataset version fetched once into a cache)."""
    from gnomon.features.api import FeatureStoreApi
    from gnomon.features.registry_api import FeatureRegistryApi

    transport = services.transport
    assert transport is not None  # one of the two is always set
    settings = services.settings

    def registry(scope: Scope) -> Any:
        from gnomon.data.api import DatasetsApi
        from gnomon.features.dataset_files import dataset_files
        from gnomon.features.registry_http import HttpFeatureRegistry
        from gnomon.features.remote_client import remote_cache

        def files() -> Any:
            if not services.offers("datasets"):
                return None
            datasets = services.api(DatasetsApi, scope)
            cache = remote_cache(settings.home, transport.base_url, scope.workspace)
            return dataset_files(datasets.version, datasets.checkout, cache)

        return HttpFeatureRegistry(transport, files)

    def features(scope: Scope) -> FeatureStoreApi:
        from gnomon.features.remote_client import RemoteFeatureClient  # pandas, DuckDB

        return RemoteFeatureClient(
            registry(scope), transport, scope, settings.online_store, settings.home
        )

    services.expose("feature_registry", FeatureRegistryApi, registry)
    services.expose("features", FeatureStoreApi, features)


PUSHED = Path("features") / "pushed"  # under GNOMON_HOME: rows pushed, per workspace and view


class OnlineStores:
    """The process's online store, opened when first used (``client.features``, and the
    server's ``/api/v1/metrics/features``)."""

    def __init__(self, where: str | None, home: Path) -> None:
        self.where, self.home = where, home
        self._opened: list[Any] = []
        self._opening = threading.Lock()  # two first uses at once (server threads) open one

    def __call__(self) -> Any:
        with self._opening:
            if not self._opened:
                self._opened.append(open_online_store(self.where, self.home))
        return self._opened[0]


def _feature_store(services: ServiceRegistry, registry: Any) -> None:
    """``client.features``: one online store per process, opened when first used."""
    from gnomon.features.api import FeatureStoreApi

    settings = services.settings
    online = OnlineStores(settings.online_store, settings.home)
    services.provide(OnlineStores, online)

    def embedded(scope: Scope) -> FeatureStoreApi:
        from gnomon.features.feature_client import FeatureClient  # pandas, DuckDB: when used

        return FeatureClient(registry, online(), scope, settings.home / PUSHED)

    services.expose("features", FeatureStoreApi, embedded)


def open_online_store(where: str | None, home: Path) -> Any:
    """The online store ``GNOMON_ONLINE_STORE`` names: Redis by URL, else a SQLite file."""
    if where and where.startswith(("redis://", "rediss://", "unix://")):
        from gnomon.features.online_redis import RedisOnlineStore

        return RedisOnlineStore(where)
    from gnomon.features.online_sqlite import SqliteOnlineStore, default_path

    return SqliteOnlineStore(Path(where).expanduser() if where else default_path(home))
