"""``GET /api/v1/metrics/rollouts``: the rollouts' gauges and decision counts as Prometheus
text, beside the monitors' ``/metrics/monitors`` and with its access (a global admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from gnomon.automation.rollouts import RolloutService
from gnomon.server.access import Access, Caller, require

router = APIRouter(tags=["automation"])

GlobalAdmin = Annotated[Caller, Depends(require(Access.GLOBAL_ADMIN))]


@router.get(
    "/metrics/rollouts",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text."}},
)
def rollout_metrics(caller: GlobalAdmin, request: Request) -> Response:
    """Every workspace's recent rollouts (state, stage, the candidate's traffic share) and
    their deployments' decisions by action, as Prometheus metrics (a global admin's token:
    they name the workspaces' deployments and models)."""
    from prometheus_client import CONTENT_TYPE_LATEST

    from gnomon.automation.exported import exposition

    rollouts: RolloutService = request.app.state.services.get(RolloutService)
    return Response(exposition(rollouts.store.db), media_type=CONTENT_TYPE_LATEST)
