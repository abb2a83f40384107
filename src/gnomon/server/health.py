"""/healthz (process up), /readyz (database and artifact store reachable), /metrics."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from gnomon.artifacts import ReadinessProbe, open_artifact_store
from gnomon.errors import Unavailable
from gnomon.server.access import Access, require
from gnomon.web.prometheus import exposition

logger = logging.getLogger("gnomon.server")
router = APIRouter(tags=["operations"])
Public = Depends(require(Access.PUBLIC))


@router.get("/healthz", dependencies=[Public])
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", dependencies=[Public])
def readyz(request: Request) -> dict[str, str]:
    """Ready when the database answers and the artifact store can take files.

    Probes call this without a login, so a 503 names the unready components only; what
    failed (URIs, hosts, buckets, driver messages) goes to the server log.
    """
    unready = []
    for component, check in (("database", _database), ("artifact store", _artifact_store)):
        try:
            check(request.app.state)
        except Exception as exc:
            why = _root_cause(exc)  # the driver's or the store's own words, for the operator
            logger.warning("readiness: the %s is not ready: %s", component, why, exc_info=True)
            unready.append(component)
    if unready:
        raise Unavailable(f"not ready: {', '.join(unready)}", {"unready": unready})
    return {"status": "ready"}


def _database(state: Any) -> None:
    with state.database.read() as conn:
        conn.execute(text("SELECT 1"))


def _artifact_store(state: Any) -> None:
    settings = state.settings
    store = open_artifact_store(settings.artifact_root, s3_endpoint_url=settings.s3_endpoint_url)
    if isinstance(store, ReadinessProbe):
        store.check_ready()  # a missing bucket or an unwritable folder, not just "lists empty"
    else:
        store.list("")  # a plugin store: at least reachable, credentials accepted


def _root_cause(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


@router.get("/metrics", dependencies=[Public], response_class=Response)
def metrics(request: Request) -> Response:
    body = exposition(request.app.state.metrics.registry)  # every worker's, summed
    return Response(body, media_type=CONTENT_TYPE_LATEST)
