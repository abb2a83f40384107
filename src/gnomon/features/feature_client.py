"""``client.features``: the feature store in one place for a scope: training sets from the
offline sources, materialisation into the online store, online lookups and pushes. Embedded:
it reads the sources and the online store from this process."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from gnomon._types import Scope, now_ms
from gnomon.errors import InvalidInput
from gnomon.features.api import Observe
from gnomon.features.definitions import FeatureView
from gnomon.features.materialize import Materialized, materialize
from gnomon.features.offline import training_frame
from gnomon.features.online import OnlineRead, OnlineStore, OnlineView, pack_rows, ttl_ms
from gnomon.features.service import FeatureRegistry
from gnomon.features.sources import DatasetFiles, columns_of
from gnomon.features.specs import Catalog

MAX_ONLINE_ENTITIES = 10_000  # one lookup: a request's rows, not a table
MAX_PUSH_ROWS = 1_000_000


class FeatureClient:
    """The feature store, bound to ``scope``."""

    def __init__(
        self,
        registry: FeatureRegistry,
        online: OnlineStore,
        scope: Scope,
        pushed_root: Path,
    ) -> None:
        self.registry = registry
        self.online = online
        self.scope = scope
        self.pushed_root = pushed_root

    def catalog(self) -> Catalog:
        return self.registry.catalog(self.scope)

    def _dataset_files(self) -> DatasetFiles | None:
        return self.registry.dataset_files(self.scope)

    def _pushed(self, view: str) -> Path:
        return self.pushed_root / self.scope.workspace / view

    def get_training_frame(
        self,
        entity_df: pd.DataFrame | pa.Table,
        features: Sequence[str] | None = None,
        service: str | None = None,
        *,
        timestamp_column: str = "event_timestamp",
        output: Literal["pandas", "arrow"] = "pandas",
    ) -> pd.DataFrame | pa.Table:
        """``entity_df`` with the features as of each row's time (see ``offline.py``)."""
        catalog = self.catalog()
        chosen = catalog.resolve(list(features) if features is not None else None, service)
        # con=None: the join's own connection, closed before the answer is built (less memory)
        return training_frame(
            None,
            catalog,
            entity_df,
            chosen,
            dataset_files=self._dataset_files(),
            pushed_root=self.pushed_root / self.scope.workspace,
            timestamp_column=timestamp_column,
            output=output,
        )

    def materialize(
        self,
        views: Sequence[str] | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        incremental: bool = False,
        progress: bool = True,
    ) -> list[Materialized]:
        """The latest value per entity of each view (default: every view) into the online
        store; ``incremental`` reads only rows newer than the last run's watermark."""
        catalog = self.catalog()
        names = list(views) if views else sorted(catalog.views)
        return [
            materialize(
                catalog,
                catalog.view(name),
                self.online,
                self.scope.workspace,
                start=start,
                end=end,
                incremental=incremental,
                dataset_files=self._dataset_files(),
                pushed=self._pushed(name),
                progress=progress,
            )
            for name in names
        ]

    def online_reader(
        self, features: Sequence[str] | None = None, service: str | None = None
    ) -> OnlineReader:
        """The lookup of ``features`` or ``service`` (as ``get_online_features`` takes them),
        resolved now against the applied definitions, for reading many times."""
        catalog = self.catalog()
        chosen = catalog.resolve(list(features) if features is not None else None, service)
        return OnlineReader(self.online, self.scope.workspace, catalog, chosen)

    def get_online_features(
        self,
        entities: Mapping[str, Sequence[Any]] | pd.DataFrame,
        features: Sequence[str] | None = None,
        service: str | None = None,
        observe: Observe | None = None,
    ) -> dict[str, list[Any]]:
        """The freshest value of each feature per entity row: ``entities`` maps each join key
        to its values (one per row); the answer maps the keys and each feature (named as in
        ``get_training_frame``) to one value per row, ``None`` where nothing fresh is stored.
        """
        return self.online_reader(features, service)(entities, observe)

    def push_features(self, view_name: str, frame: pd.DataFrame | pa.Table) -> int:
        """Writes fresh rows of a view to the online store (newest per entity wins) and to the
        offline side (a Parquet file joined to the view's source), so training sets built later
        see them too. Returns the rows pushed."""
        catalog = self.catalog()
        view = catalog.view(view_name)
        keys = catalog.join_keys(view)
        table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame)
        if table.num_rows > MAX_PUSH_ROWS:
            raise InvalidInput(f"at most {MAX_PUSH_ROWS} rows a push, got {table.num_rows}")
        wanted = columns_of(view, keys)
        missing = [c for c in wanted if c not in table.column_names]
        if missing:
            raise InvalidInput(f"the pushed rows lack the columns {missing} of view {view_name!r}")
        table = table.select(wanted)
        folder = self._pushed(view_name)
        folder.mkdir(parents=True, exist_ok=True)
        staged = folder / f".{uuid.uuid4().hex}.tmp"
        import pyarrow.parquet as pq

        pq.write_table(table, staged)
        staged.rename(folder / f"{now_ms()}-{uuid.uuid4().hex[:8]}.parquet")
        online = OnlineView.of(view, keys)
        self.online.write(self.scope.workspace, online, pack_rows(online, _rows(table, view, keys)))
        return table.num_rows


class OnlineReader:
    """An online lookup resolved once against the catalog: each view read (its online form,
    TTL and features asked for) and ``join_keys``, those the entities must carry. The model
    server makes one at start, so its requests read no definitions."""

    def __init__(
        self,
        online: OnlineStore,
        workspace: str,
        catalog: Catalog,
        chosen: Mapping[str, list[str]],
    ) -> None:
        self._online, self._workspace = online, workspace
        self._reads: list[tuple[str, list[str], OnlineView, int | None, list[str]]] = []
        for view_name, names in chosen.items():
            view = catalog.view(view_name)
            keys = catalog.join_keys(view)
            self._reads.append((view_name, keys, OnlineView.of(view, keys), ttl_ms(view), names))
        self.join_keys = sorted({k for _, keys, *_ in self._reads for k in keys})

    def __call__(
        self,
        entities: Mapping[str, Sequence[Any]] | pd.DataFrame,
        observe: Observe | None = None,
        *,
        count_stale: bool = False,
    ) -> dict[str, list[Any]]:
        """The answer of ``FeatureClient.get_online_features`` for ``entities``; with
        ``count_stale``, the stale values found are added to the store's count per view."""
        columns = _columns(entities)
        rows = len(next(iter(columns.values()))) if columns else 0
        if rows > MAX_ONLINE_ENTITIES:
            raise InvalidInput(f"at most {MAX_ONLINE_ENTITIES} entities at once, got {rows}")
        answer: dict[str, list[Any]] = {k: list(v) for k, v in columns.items()}
        now = now_ms()
        for view_name, keys, view, ttl, names in self._reads:
            missing = [k for k in keys if k not in columns]
            if missing:
                raise InvalidInput(f"entities lack the join keys {missing} of view {view_name!r}")
            tuples = list(zip(*(columns[k] for k in keys), strict=True))
            found = self._online.read(self._workspace, view, tuples, names, ttl, now)
            if count_stale and found.stale:  # the API server's: /api/v1/metrics/features
                self._online.count_stale(self._workspace, view, _stale_keys(tuples, found))
            if observe is not None:  # freshness and staleness, for the model server's metrics
                newest = max((t for t in found.event_ms if t is not None), default=None)
                observe(view_name, found.stale, newest, now)
            for name in names:
                column = name if name not in answer else f"{view_name}__{name}"
                answer[column] = [None if v is None else v.get(name) for v in found.values]
        return answer


def _stale_keys(keys: list[tuple[Any, ...]], found: OnlineRead) -> int:
    """How many distinct keys were found expired: a request naming one key a thousand times
    counts it once."""
    if found.stale == 1:
        return 1
    missing = {key for key, value in zip(keys, found.values, strict=True) if value is None}
    return min(found.stale, len(missing))


def _columns(entities: Mapping[str, Sequence[Any]] | pd.DataFrame) -> dict[str, list[Any]]:
    if isinstance(entities, pd.DataFrame):
        return {str(c): entities[c].tolist() for c in entities.columns}
    if not isinstance(entities, Mapping) or not entities:
        raise InvalidInput("entities are a mapping of join key -> values (or a DataFrame)")
    columns = {str(k): list(v) for k, v in entities.items()}
    if len({len(v) for v in columns.values()}) > 1:
        raise InvalidInput("every join key needs one value per entity row")
    return columns


def _rows(table: pa.Table, view: FeatureView, keys: list[str]) -> list[tuple[Any, ...]]:
    """(key tuple, event ms, created ms or None, values) per pushed row, as materialising
    writes them."""
    frame = table.to_pandas()
    event = _millis(frame[view.timestamp_field])
    created = _millis(frame[view.created_timestamp_field]) if view.created_timestamp_field else None
    values = frame[view.feature_names].itertuples(index=False, name=None)
    key_values = frame[keys].itertuples(index=False, name=None)
    return [
        (key, event[i], None if created is None else created[i], list(row))
        for i, (key, row) in enumerate(zip(key_values, values, strict=True))
    ]


def _millis(column: pd.Series) -> list[int]:
    stamps = pd.to_datetime(column, utc=True)
    return ((stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)).tolist()
