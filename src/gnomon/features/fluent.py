"""The feature store from a notebook or script: ``gnomon.get_training_frame``,
``gnomon.get_online_features``, ``gnomon.push_features``, over the current client."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from gnomon.errors import InvalidInput
from gnomon.features.api import FeatureStoreApi


def _features() -> FeatureStoreApi:
    from gnomon.tracking.fluent import get_client

    client = get_client()
    try:
        return client.features  # type: ignore[attr-defined, no-any-return]
    except AttributeError:
        raise InvalidInput(
            "the feature store reads its sources and online store beside the metadata "
            "database: use it embedded (no GNOMON_URI) or on the server's side"
        ) from None


def get_training_frame(
    entity_df: pd.DataFrame | pa.Table,
    features: Sequence[str] | None = None,
    service: str | None = None,
    *,
    timestamp_column: str = "event_timestamp",
    output: Literal["pandas", "arrow"] = "pandas",
    save_as: str | None = None,
) -> pd.DataFrame | pa.Table:
    """``entity_df`` (join keys and a timestamp per row) with each feature's latest value at
    or before that row's time, within the view's TTL: every row once, in order.

    Inside a run, the run records the feature views it read and their versions (tags
    ``gnomon.features.<view>``); ``save_as`` also keeps the frame as a version of that
    dataset (linked to the run, as ``gnomon.log_dataset`` does).

    Example:
        >>> frame = gnomon.get_training_frame(orders, service="churn")  # doctest: +SKIP
    """
    from gnomon.data.fluent import log_dataset
    from gnomon.tracking.fluent import active_run, get_client, set_tags

    features_api = _features()
    frame = features_api.get_training_frame(
        entity_df, features, service, timestamp_column=timestamp_column, output=output
    )
    if active_run() is not None:
        catalog = features_api.catalog()
        views = catalog.resolve(list(features) if features is not None else None, service)
        registry = get_client().feature_registry  # type: ignore[attr-defined]
        set_tags({f"gnomon.features.{v}": str(registry.get("view", v).version) for v in views})
    if save_as is not None:
        log_dataset(frame, save_as, message="a point-in-time training frame")
    return frame


def get_online_features(
    entities: Mapping[str, Sequence[Any]] | pd.DataFrame,
    features: Sequence[str] | None = None,
    service: str | None = None,
) -> dict[str, list[Any]]:
    """The freshest stored value of each feature for each entity row (``None`` when none is
    stored or it is older than the view's TTL)."""
    return _features().get_online_features(entities, features, service)


def push_features(view: str, frame: pd.DataFrame | pa.Table) -> int:
    """Write fresh rows of ``view`` to the online store and the offline side at once."""
    return _features().push_features(view, frame)
