"""The feature store's REST route: online lookups for clients that are not beside the store
(``POST /api/v1/features/online``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from gnomon.features.api import FeatureStoreApi
from gnomon.features.schemas import OnlineLookup, OnlineValues
from gnomon.server.access import Access, Caller, require
from gnomon.server.respond import wire

router = APIRouter(tags=["features"])

Reader = Annotated[Caller, Depends(require(Access.VIEWER))]


@router.post("/features/online", response_model=OnlineValues)
def online_features(body: OnlineLookup, request: Request, caller: Reader) -> Response:
    """The freshest stored value of each feature per entity row, as the model server's
    ``--feature-service`` reads them; unknown views or features are 404s naming them."""
    features: FeatureStoreApi = request.app.state.services.api(FeatureStoreApi, caller.scope)
    read = features.online_reader(body.features, body.service)
    # Expired values found are added up in the store, for GET /api/v1/metrics/features.
    found: dict[str, list[Any]] = read(body.entities, count_stale=True)
    return wire(OnlineValues, {"results": found})
