"""``GET /api/v1/metrics/features``: the online store's freshness per view and the expired
values lookups found, as Prometheus text, beside the monitors' and the rollouts' metric
routes and with their access (a global admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from gnomon.server.access import Access, Caller, require

router = APIRouter(tags=["features"])

GlobalAdmin = Annotated[Caller, Depends(require(Access.GLOBAL_ADMIN))]


@router.get(
    "/metrics/features",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text."}},
)
def feature_metrics(caller: GlobalAdmin, request: Request) -> Response:
    """Per workspace and live view: the age of the newest value stored online, and the values
    lookups through ``POST /api/v1/features/online`` found expired, as Prometheus metrics (a
    global admin's token: they name the workspaces' views)."""
    from prometheus_client import CONTENT_TYPE_LATEST

    from gnomon.features.exported import exposition
    from gnomon.features.service import FeatureRegistry
    from gnomon.features.wiring import OnlineStores

    services = request.app.state.services
    db, online = services.get(FeatureRegistry).store.db, services.get(OnlineStores)
    return Response(exposition(db, online()), media_type=CONTENT_TYPE_LATEST)
