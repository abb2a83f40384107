"""``client.features`` through a gnomon server: the definitions are the server's, the data is
read here.

- Training frames are built in this process, from the sources as this machine reaches them
  (a dataset version is fetched from the server once, then cached).
- Online lookups go to the server's ``POST /api/v1/features/online``, which reads its online
  store and counts freshness for its ``/api/v1/metrics/features``.
- Materialising writes into the online store ``GNOMON_ONLINE_STORE`` names, which must be the
  one the server reads (Redis, say): a SQLite file on this machine would never be served.
- Pushing writes the offline side's files beside the server, so it is done there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon._types import Scope
from gnomon.client.transport import Transport, body
from gnomon.errors import InvalidInput, Unavailable
from gnomon.features.feature_client import MAX_ONLINE_ENTITIES, FeatureClient, _columns
from gnomon.features.registry_http import HttpFeatureRegistry
from gnomon.features.schemas import MAX_ENTITIES, OnlineLookup, OnlineValues
from gnomon.features.sources import DatasetFiles
from gnomon.features.specs import Catalog

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from gnomon.features.api import Observe

PUSHED_BESIDE = (
    "push_features writes the offline side's files beside the feature store: push where "
    "GNOMON_URI is the metadata database (the server's machine, or a worker beside it)"
)
NO_SHARED_STORE = (
    "materialising through a server writes into the online store the server reads: set "
    "GNOMON_ONLINE_STORE to it (redis://...), as the server has it"
)


class RemoteFeatureClient(FeatureClient):
    """The feature store of ``scope`` on the server ``transport`` reaches."""

    def __init__(
        self,
        registry: HttpFeatureRegistry,
        transport: Transport,
        scope: Scope,
        online_store: str | None,
        home: Path,
    ) -> None:
        self.remote = registry
        self.transport = transport
        self.scope = scope
        self.online_store = online_store
        self.home = home
        self.pushed_root = home / "features" / "remote-pushed"  # never written: no push here
        self._online: Any = None

    def catalog(self) -> Catalog:
        return self.remote.catalog()

    def _dataset_files(self) -> DatasetFiles | None:
        return self.remote.dataset_files()

    @property  # type: ignore[override]
    def online(self) -> Any:
        """The store materialising writes to: refused unless named (before a source is read)."""
        if self._online is None:
            if not self.online_store:
                raise InvalidInput(NO_SHARED_STORE)
            from gnomon.features.wiring import open_online_store

            self._online = open_online_store(self.online_store, self.home)
        return self._online

    def online_reader(
        self, features: Sequence[str] | None = None, service: str | None = None
    ) -> HttpOnlineReader:
        catalog = self.catalog()
        chosen = catalog.resolve(list(features) if features is not None else None, service)
        keys = {k for view in chosen for k in catalog.join_keys(catalog.view(view))}
        return HttpOnlineReader(self.transport, sorted(keys), features, service)

    def get_online_features(
        self,
        entities: Mapping[str, Sequence[Any]] | pd.DataFrame,
        features: Sequence[str] | None = None,
        service: str | None = None,
        observe: Observe | None = None,
    ) -> dict[str, list[Any]]:
        return HttpOnlineReader(self.transport, [], features, service)(entities)

    def push_features(self, view_name: str, frame: pd.DataFrame | pa.Table) -> int:
        raise InvalidInput(PUSHED_BESIDE)


class HttpOnlineReader:
    """Online lookups through the server's route, ``MAX_ENTITIES`` rows a request; the answer
    is the embedded reader's. ``observe`` is not called: the server counts freshness."""

    def __init__(
        self,
        transport: Transport,
        join_keys: list[str],
        features: Sequence[str] | None,
        service: str | None,
    ) -> None:
        self.transport = transport
        self.join_keys = join_keys
        self.features = list(features) if features is not None else None
        self.service = service

    def __call__(
        self,
        entities: Mapping[str, Sequence[Any]] | pd.DataFrame,
        observe: Observe | None = None,
        *,
        count_stale: bool = False,
    ) -> dict[str, list[Any]]:
        columns = _columns(entities)
        rows = len(next(iter(columns.values())))
        if rows > MAX_ONLINE_ENTITIES:
            raise InvalidInput(f"at most {MAX_ONLINE_ENTITIES} entities at once, got {rows}")
        answer: dict[str, list[Any]] = {}
        for start in range(0, max(rows, 1), MAX_ENTITIES):
            part = {k: v[start : start + MAX_ENTITIES] for k, v in columns.items()}
            sent = body(OnlineLookup, entities=part, features=self.features, service=self.service)
            found = self.transport.one(
                "POST",
                "/features/online",
                OnlineValues,
                content=sent.model_dump_json().encode(),
                headers={"content-type": "application/json"},
            )
            sent_rows = len(next(iter(part.values())))
            for name, values in found.results.items():
                if len(values) != sent_rows:  # a value on the wrong entity is worse than none
                    raise Unavailable(
                        f"the server answered {len(values)} values of {name[:128]!r} for "
                        f"{sent_rows} entities"
                    )
                answer.setdefault(name, []).extend(values)
        return answer


def remote_cache(home: Path, base_url: str, workspace: str) -> Path:
    """Where dataset versions of one server's workspace are checked out for training frames."""
    named = hashlib.sha256(f"{base_url}\n{workspace}".encode()).hexdigest()[:24]
    return home / "cache" / "feature-datasets" / "remote" / named


__all__ = ["HttpOnlineReader", "RemoteFeatureClient", "remote_cache"]
