"""``client.features``: what the feature store offers a scope (``FeatureClient`` implements
it). A Protocol in a module of its own, so that opening gnomon, which builds every
capability, loads neither DuckDB nor pandas until the feature store is used."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from gnomon.features.feature_client import OnlineReader
    from gnomon.features.materialize import Materialized
    from gnomon.features.specs import Catalog

# (view, values found but expired, newest event time found or None, now), per view read
Observe = Callable[[str, int, int | None, int], None]


class FeatureStoreApi(Protocol):
    def catalog(self) -> Catalog:
        """The applied definitions."""
        ...

    def get_training_frame(
        self,
        entity_df: pd.DataFrame | pa.Table,
        features: Sequence[str] | None = None,
        service: str | None = None,
        *,
        timestamp_column: str = "event_timestamp",
        output: Literal["pandas", "arrow"] = "pandas",
    ) -> pd.DataFrame | pa.Table:
        """``entity_df`` with each feature as of each row's time. Raises ``NotFound`` for an
        unknown view, feature or service, ``InvalidInput`` for missing key or time columns."""
        ...

    def materialize(
        self,
        views: Sequence[str] | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        incremental: bool = False,
        progress: bool = True,
    ) -> list[Materialized]:
        """The latest value per entity of each view into the online store."""
        ...

    def online_reader(
        self, features: Sequence[str] | None = None, service: str | None = None
    ) -> OnlineReader:
        """``get_online_features``' lookup, resolved once: called with the entities (and
        ``observe``), it answers as ``get_online_features`` does."""
        ...

    def get_online_features(
        self,
        entities: Mapping[str, Sequence[Any]] | pd.DataFrame,
        features: Sequence[str] | None = None,
        service: str | None = None,
        observe: Observe | None = None,
    ) -> dict[str, list[Any]]:
        """The freshest stored value of each feature per entity row (``None``: none fresh)."""
        ...

    def push_features(self, view_name: str, frame: pd.DataFrame | pa.Table) -> int:
        """Fresh rows of a view, to the online store and the offline side."""
        ...
