"""/healthz (process up), /readyz (database and artifact store reachable), /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from gnomon.artifacts import open_artifact_store
from gnomon.errors import GnomonError, Unavailable
from gnomon.server.access import Access, require

router = APIRouter(tags=["operations"])
Public = Depends(require(Access.PUBLIC))


@router.get("/healthz", dependencies=[Public])
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", dependencies=[Public])
def readyz(request: Request) -> dict[str, str]:
    settings = request.app.state.settings
    try:
        with request.app.state.database.read() as conn:
            conn.execute(text("SELECT 1"))
    except GnomonError as exc:
        raise Unavailable(f"database not ready: {exc.message}") from exc
    except Exception as exc:
        raise Unavailable(f"database not ready: {type(exc).__name__}") from exc
    try:
        open_artifact_store(settings.artifact_root, s3_endpoint_url=settings.s3_endpoint_url).list(
            ""
        )
    except GnomonError as exc:
        raise Unavailable(f"artifact store not ready: {exc.message}") from exc
    return {"status": "ready"}


@router.get("/metrics", dependencies=[Public], response_class=Response)
def metrics(request: Request) -> Response:
    body = generate_latest(request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
