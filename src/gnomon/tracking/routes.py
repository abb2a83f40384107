"""Tracking REST routes under /api/v1: thin handlers over TrackingService."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from gnomon.auth.entities import AuditAction
from gnomon.server.access import Access, Caller, require
from gnomon.server.audit import audit
from gnomon.server.guard import upload_body
from gnomon.server.respond import wire, wire_page
from gnomon.tracking.entities import Lifecycle, Metric
from gnomon.tracking.http import ARCHIVE_HEADER
from gnomon.tracking.schemas import (
    ArtifactOut,
    CreateExperiment,
    CreateRun,
    ExperimentOut,
    LogBatch,
    MetricWire,
    RenameExperiment,
    RunOut,
    SearchRuns,
    UpdateRun,
)
from gnomon.tracking.search import DEFAULT_MAX_RESULTS, build_query
from gnomon.tracking.service import TrackingService
from gnomon.wire import PageOut, PageSize, Text

router = APIRouter(tags=["tracking"])

Reader = Annotated[Caller, Depends(require(Access.VIEWER))]
Writer = Annotated[Caller, Depends(require(Access.EDITOR))]


async def _service(request: Request) -> TrackingService:  # async: no threadpool hop
    service: TrackingService = request.app.state.services.tracking
    return service


Service = Annotated[TrackingService, Depends(_service)]

# -- experiments -----------------------------------------------------------------------------


@router.post("/experiments", status_code=201, response_model=ExperimentOut)
def create_experiment(
    body: CreateExperiment, request: Request, caller: Writer, service: Service
) -> Response:
    exp = service.create_experiment(caller.scope, body.name)
    audit(request, caller, AuditAction.CREATE, "experiment", exp.id, {"name": exp.name})
    return wire(ExperimentOut, exp, 201)


@router.get("/experiments", response_model=PageOut[ExperimentOut])
def list_experiments(
    caller: Reader,
    service: Service,
    lifecycle: Literal["active", "deleted", "all"] = "active",
    max_results: PageSize = DEFAULT_MAX_RESULTS,
    page_token: Text | None = None,
) -> Response:
    chosen = None if lifecycle == "all" else Lifecycle(lifecycle)
    page = service.list_experiments(caller.scope, chosen, max_results, page_token)
    return wire_page(ExperimentOut, page)


@router.get("/experiments/by-name/{name:path}", response_model=ExperimentOut)
def get_experiment_by_name(name: Text, caller: Reader, service: Service) -> Response:
    return wire(ExperimentOut, service.get_experiment_by_name(caller.scope, name))


@router.get("/experiments/{experiment_id}", response_model=ExperimentOut)
def get_experiment(experiment_id: Text, caller: Reader, service: Service) -> Response:
    return wire(ExperimentOut, service.get_experiment(caller.scope, experiment_id))


@router.patch("/experiments/{experiment_id}", response_model=ExperimentOut)
def rename_experiment(
    experiment_id: Text, body: RenameExperiment, request: Request, caller: Writer, service: Service
) -> Response:
    exp = service.rename_experiment(caller.scope, experiment_id, body.name)
    audit(request, caller, AuditAction.UPDATE, "experiment", exp.id, {"name": exp.name})
    return wire(ExperimentOut, exp)


@router.delete("/experiments/{experiment_id}", response_model=ExperimentOut)
def delete_experiment(
    experiment_id: Text, request: Request, caller: Writer, service: Service
) -> Response:
    exp = service.delete_experiment(caller.scope, experiment_id)
    audit(request, caller, AuditAction.DELETE, "experiment", exp.id)
    return wire(ExperimentOut, exp)


@router.post("/experiments/{experiment_id}/restore", response_model=ExperimentOut)
def restore_experiment(
    experiment_id: Text, request: Request, caller: Writer, service: Service
) -> Response:
    exp = service.restore_experiment(caller.scope, experiment_id)
    audit(request, caller, AuditAction.UPDATE, "experiment", exp.id, {"restored": True})
    return wire(ExperimentOut, exp)


# -- runs ------------------------------------------------------------------------------------


@router.post("/runs", status_code=201, response_model=RunOut)
def create_run(body: CreateRun, request: Request, caller: Writer, service: Service) -> Response:
    # The run's user is whoever authenticated, whatever the body claims; only a --no-auth
    # server, which knows no one, records the name the client sends.
    user = body.user if request.app.state.no_auth else caller.principal.name
    run = service.create_run(
        caller.scope,
        body.experiment_id,
        body.name,
        description=body.description,
        parent_run_id=body.parent_run_id,
        tags=body.tags,
        user=user,
        start_time=body.start_time,
    )
    audit(request, caller, AuditAction.CREATE, "run", run.id, {"experiment_id": run.experiment_id})
    return wire(RunOut, run, 201)


@router.post("/runs/search", response_model=PageOut[RunOut])
def search_runs(body: SearchRuns, caller: Reader, service: Service) -> Response:
    query = build_query(
        body.experiment_ids,
        body.filter,
        body.order_by,
        body.max_results,
        body.page_token,
        body.include_deleted,
    )
    return wire_page(RunOut, service.search_query(caller.scope, query))


@router.get("/runs/{run_id}", response_model=RunOut)
def get_run(run_id: Text, caller: Reader, service: Service) -> Response:
    return wire(RunOut, service.get_run(caller.scope, run_id))


@router.patch("/runs/{run_id}", response_model=RunOut)
def update_run(
    run_id: Text, body: UpdateRun, request: Request, caller: Writer, service: Service
) -> Response:
    run = service.update_run(
        caller.scope, run_id, body.name, body.description, body.status, body.end_time
    )
    changed = body.model_dump(exclude_none=True)
    audit(request, caller, AuditAction.UPDATE, "run", run.id, changed)
    return wire(RunOut, run)


@router.delete("/runs/{run_id}", response_model=RunOut)
def delete_run(run_id: Text, request: Request, caller: Writer, service: Service) -> Response:
    run = service.delete_run(caller.scope, run_id)
    audit(request, caller, AuditAction.DELETE, "run", run.id)
    return wire(RunOut, run)


@router.post("/runs/{run_id}/restore", response_model=RunOut)
def restore_run(run_id: Text, request: Request, caller: Writer, service: Service) -> Response:
    run = service.restore_run(caller.scope, run_id)
    audit(request, caller, AuditAction.UPDATE, "run", run.id, {"restored": True})
    return wire(RunOut, run)


@router.post("/runs/{run_id}/batch", status_code=204)
def log_batch(run_id: Text, body: LogBatch, caller: Writer, service: Service) -> Response:
    metrics = [Metric(m.key, m.value, m.step, m.timestamp) for m in body.metrics]
    service.log_batch(caller.scope, run_id, metrics, body.params, body.tags)
    return Response(status_code=204)


@router.get("/runs/{run_id}/metrics/{key:path}/history", response_model=list[MetricWire])
def get_metric_history(run_id: Text, key: Text, caller: Reader, service: Service) -> Response:
    history = service.get_metric_history(caller.scope, run_id, key)
    return wire(list[MetricWire], history)


# -- artifacts -------------------------------------------------------------------------------


@router.get("/runs/{run_id}/artifacts", response_model=list[ArtifactOut])
def list_artifacts(run_id: Text, caller: Reader, service: Service, path: Text = "") -> Response:
    return wire(list[ArtifactOut], service.list_artifacts(caller.scope, run_id, path))


@router.put(
    "/runs/{run_id}/artifacts/{path:path}",
    status_code=204,
    openapi_extra=upload_body("application/octet-stream"),  # the large upload limit
)
async def upload_artifact(
    run_id: Text, path: Text, request: Request, caller: Writer, service: Service
) -> Response:
    """Stream the body to a temporary file, then store it atomically under ``path``."""
    # A finished run or a sealed model path is refused before any body is read.
    await run_in_threadpool(service.check_artifact_write, caller.scope, run_id, [path])
    async with received_body(request) as local:
        # On a worker thread: storing (a copy, an S3 upload) must not stall the event loop.
        await run_in_threadpool(service.put_artifact, caller.scope, run_id, path, local)
    return Response(status_code=204)


@asynccontextmanager
async def received_body(request: Request) -> AsyncIterator[Path]:
    """The request's body streamed to a temporary file (bounded by the request guard), for
    as long as the block runs."""
    with tempfile.TemporaryDirectory(prefix="gnomon-upload-") as folder:
        local = Path(folder) / "body"
        with local.open("wb") as sink:
            async for chunk in request.stream():
                sink.write(chunk)
        yield local


@router.get("/runs/{run_id}/artifacts/{path:path}", response_class=FileResponse)
def download_artifact(run_id: Text, path: Text, caller: Reader, service: Service) -> Any:
    folder = tempfile.mkdtemp(prefix="gnomon-download-")
    try:
        local = service.download_artifacts(caller.scope, run_id, path, folder)
    except BaseException:
        _remove(Path(folder))
        raise
    cleanup = BackgroundTask(_remove, Path(folder))
    if local.is_dir():
        archive = shutil.make_archive(str(Path(folder) / local.name), "gztar", local)
        headers = {ARCHIVE_HEADER: "1"}  # a folder travels as one .tar.gz
        return FileResponse(
            archive, media_type="application/gzip", headers=headers, background=cleanup
        )
    return FileResponse(local, background=cleanup)


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
