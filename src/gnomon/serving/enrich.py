"""Requests that carry only entity keys: the model server adds the feature service's
freshest online values as columns before the contract check and the prediction, so a
client sends ``{"customer_id": 42}`` and the model sees the features it was trained on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from gnomon.errors import InvalidInput

# (request rows, the model's input names or None) -> the rows the model is checked on
Enrich = Callable[[pd.DataFrame, list[str] | None], pd.DataFrame]


class FeatureEnricher:
    """The enrichment of one feature service; ``observe`` (set by the model server) receives
    each view read's staleness and freshness for its metrics."""

    def __init__(self, features: Any, service: str) -> None:
        self.observe: Any = None
        self._enrich = _enrich(features, service, self)

    def __call__(self, frame: pd.DataFrame, inputs: list[str] | None) -> pd.DataFrame:
        return self._enrich(frame, inputs)


def feature_enricher(features: Any, service: str) -> FeatureEnricher:
    return FeatureEnricher(features, service)


def _enrich(features: Any, service: str, owner: FeatureEnricher) -> Enrich:
    """``features`` is a ``FeatureClient`` (``client.features``); the service is checked
    now, so a server with a misspelt one fails at start, not at the first request."""
    catalog = features.catalog()
    chosen = catalog.resolve(service=service)
    keys = sorted({k for view in chosen for k in catalog.join_keys(catalog.view(view))})

    def enrich(frame: pd.DataFrame, inputs: list[str] | None) -> pd.DataFrame:
        missing = [k for k in keys if k not in frame.columns]
        if missing:
            raise InvalidInput(
                f"the request lacks the entity keys {missing} (feature service {service!r})"
            )
        entities = {k: frame[k].tolist() for k in keys}
        found = features.get_online_features(entities, service=service, observe=owner.observe)
        added = {name: values for name, values in found.items() if name not in frame.columns}
        # Values the client sent win over stored ones: a caller may pass a feature it knows.
        enriched = frame.assign(**added) if added else frame
        # The keys were for the lookup: the model's contract decides whether it takes them.
        extra = [k for k in keys if inputs is not None and k not in inputs]
        return enriched.drop(columns=extra) if extra else enriched

    return enrich
