"""Requests that carry only entity keys: the model server adds the feature service's
freshest online values as columns before the contract check and the prediction, so a
client sends ``{"customer_id": 42}`` and the model sees the features it was trained on."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    from gnomon.features.api import FeatureStoreApi, Observe

# (request rows, the model's input names or None) -> the rows the model is checked on
Enrich = Callable[[pd.DataFrame, list[str] | None], pd.DataFrame]


class FeatureEnricher:
    """The enrichment of one feature service, resolved against the applied definitions when
    made: a misspelt service fails the server's start, not its first request, and a request
    reads no definitions (a service applied anew is served after a restart). ``observe``
    (set by the model server) receives each view read's staleness and freshness."""

    def __init__(self, features: FeatureStoreApi, service: str) -> None:
        self.service = service
        self.observe: Observe | None = None
        self._read = features.online_reader(service=service)

    def __call__(self, frame: pd.DataFrame, inputs: list[str] | None) -> pd.DataFrame:
        keys = self._read.join_keys
        missing = [k for k in keys if k not in frame.columns]
        if missing:
            raise InvalidInput(
                f"the request lacks the entity keys {missing} (feature service {self.service!r})"
            )
        found = self._read({k: frame[k].tolist() for k in keys}, self.observe)
        added = {name: values for name, values in found.items() if name not in frame.columns}
        # Values the client sent win over stored ones: a caller may pass a feature it knows.
        enriched = frame.assign(**added) if added else frame
        # The keys were for the lookup: the model's contract decides whether it takes them.
        extra = [k for k in keys if inputs is not None and k not in inputs]
        return enriched.drop(columns=extra) if extra else enriched
