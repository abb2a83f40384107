"""Pipeline REST routes under /api/v1: thin handlers over PipelineService and LineageService.

Remote users run pipelines on their own machines (or Ray); the server records the runs and
keeps the steps' outputs. Viewers read runs, steps, the cache, lineage and objects; editors
start, record and finish runs and upload objects. Objects (``PUT /pipeline-objects/{digest}``)
are streamed to a temporary file and hashed on the way; one whose content does not match its
name is refused and nothing is stored. They are bytes to the server: never loaded.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import xxhash
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathPart
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from gnomon.auth.entities import AuditAction
from gnomon.errors import PayloadTooLarge
from gnomon.pipelines.lineage import MAX_DEPTH, LineageService
from gnomon.pipelines.prediction_lineage import PredictionLineageService
from gnomon.pipelines.prediction_records import MAX_REQUEST_ID
from gnomon.pipelines.schemas import (
    CacheAsk,
    CachedOut,
    Digest,
    FinishRun,
    LineageOut,
    MissingAsk,
    MissingOut,
    PipelineRunOut,
    PredictionLineageOut,
    RecordSteps,
    StartRun,
    StepOut,
)
from gnomon.pipelines.served_objects import ServedObjects
from gnomon.pipelines.service import MAX_LIST, PipelineService
from gnomon.server.access import Access, Caller, require
from gnomon.server.audit import audit
from gnomon.server.guard import upload_body
from gnomon.server.respond import wire
from gnomon.tracking.validation import NAME_LENGTH
from gnomon.wire import QueryMillis, Text

router = APIRouter(tags=["pipelines"])

Reader = Annotated[Caller, Depends(require(Access.VIEWER))]
Writer = Annotated[Caller, Depends(require(Access.EDITOR))]


async def _pipelines(request: Request) -> PipelineService:  # async: no threadpool hop
    service: PipelineService = request.app.state.services.get(PipelineService)
    return service


async def _lineage(request: Request) -> LineageService:
    service: LineageService = request.app.state.services.get(LineageService)
    return service


async def _prediction_lineage(request: Request) -> PredictionLineageService:
    service: PredictionLineageService = request.app.state.services.get(PredictionLineageService)
    return service


Pipelines = Annotated[PipelineService, Depends(_pipelines)]
ObjectDigest = Annotated[Digest, PathPart(description="The content's XXH3-128, in hex.")]
Lineage = Annotated[LineageService, Depends(_lineage)]
PredictionLineages = Annotated[PredictionLineageService, Depends(_prediction_lineage)]


def _objects(request: Request, caller: Caller) -> ServedObjects:
    settings = request.app.state.settings
    store = request.app.state.services.artifact_store(settings.artifact_root)
    return ServedObjects(store, caller.scope.workspace)


@router.post("/pipeline-runs", status_code=201, response_model=PipelineRunOut)
def start_run(body: StartRun, request: Request, caller: Writer, pipelines: Pipelines) -> Response:
    """A pipeline run, ``running`` until finished (and its run in tracking)."""
    run = pipelines.start_run(caller.scope, body.entity())
    audit(request, caller, AuditAction.CREATE, "pipeline_run", run.id, {"pipeline": run.pipeline})
    return wire(PipelineRunOut, PipelineRunOut.of(run), 201)


@router.get("/pipeline-runs", response_model=list[PipelineRunOut])
def list_runs(
    caller: Reader,
    pipelines: Pipelines,
    pipeline: Annotated[Text, Query(max_length=NAME_LENGTH)] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
) -> Response:
    """The newest runs first (without their specs)."""
    found = pipelines.list_runs(caller.scope, pipeline, limit)
    return wire(list[PipelineRunOut], [PipelineRunOut.of(r) for r in found])


@router.get("/pipeline-runs/{pipeline_run_id}", response_model=PipelineRunOut)
def get_run(pipeline_run_id: Text, caller: Reader, pipelines: Pipelines) -> Response:
    return wire(PipelineRunOut, PipelineRunOut.of(pipelines.get_run(caller.scope, pipeline_run_id)))


@router.get("/pipeline-runs/{pipeline_run_id}/steps", response_model=list[StepOut])
def list_steps(pipeline_run_id: Text, caller: Reader, pipelines: Pipelines) -> Response:
    found = pipelines.steps(caller.scope, pipeline_run_id)
    return wire(list[StepOut], [StepOut.of(s) for s in found])


@router.post("/pipeline-runs/{pipeline_run_id}/steps", status_code=204)
def record_steps(
    pipeline_run_id: Text, body: RecordSteps, caller: Writer, pipelines: Pipelines
) -> Response:
    """Finished steps, in one transaction (409 once the run is finished)."""
    steps = [s.entity(pipeline_run_id) for s in body.steps]
    pipelines.record_steps(caller.scope, pipeline_run_id, steps)
    return Response(status_code=204)


@router.post("/pipeline-runs/{pipeline_run_id}/finish", response_model=PipelineRunOut)
def finish_run(
    pipeline_run_id: Text, body: FinishRun, request: Request, caller: Writer, pipelines: Pipelines
) -> Response:
    run = pipelines.finish_run(caller.scope, pipeline_run_id, body.status, body.error)
    audit(request, caller, AuditAction.UPDATE, "pipeline_run", run.id, {"status": run.status})
    return wire(PipelineRunOut, PipelineRunOut.of(run))


@router.post("/pipeline-cache/lookup", response_model=CachedOut)
def cached(body: CacheAsk, caller: Reader, pipelines: Pipelines) -> Response:
    """The step run that last computed each cache key, for the keys that have one."""
    found = pipelines.cached(caller.scope, body.keys)
    return wire(CachedOut, {"steps": {k: StepOut.of(s) for k, s in found.items()}})


@router.get("/pipeline-cache/recent", response_model=CachedOut)
def recent_cache(
    caller: Reader,
    pipelines: Pipelines,
    pipeline: Annotated[Text, Query(max_length=NAME_LENGTH)],
) -> Response:
    """The cache entries of the pipeline's last few runs (a runner's first guess)."""
    found = pipelines.recent_cache(caller.scope, pipeline)
    return wire(CachedOut, {"steps": {k: StepOut.of(s) for k, s in found.items()}})


# Before /lineage/{ref:path}, which would take "prediction/…" as a ref. A path parameter: a
# client's X-Request-ID may hold a '/'.
@router.get("/lineage/prediction/{request_id:path}", response_model=PredictionLineageOut)
def prediction_lineage(
    request_id: Annotated[Text, PathPart(max_length=MAX_REQUEST_ID)],
    caller: Reader,
    lineage: PredictionLineages,
    deployment: Annotated[Text, Query(max_length=NAME_LENGTH)] | None = None,
    since_ms: QueryMillis | None = None,
    until_ms: QueryMillis | None = None,
) -> Response:
    """Where the prediction ``request_id`` came from: deployment, model version, run, commit,
    params, dataset versions and feature views (row 0's for a request of several rows)."""
    found = lineage.lineage(caller.scope, request_id, deployment, since_ms, until_ms)
    return wire(PredictionLineageOut, PredictionLineageOut.of(found))


@router.get("/lineage/{ref:path}", response_model=LineageOut)
def lineage(
    ref: Annotated[Text, PathPart(max_length=1024)],
    caller: Reader,
    lineage: Lineage,
    direction: Literal["upstream", "downstream", "both"] = "both",
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 10,
) -> Response:
    """The graph around ``ref``: ``run:ID``, ``step:ID``, ``artifact:DIGEST``,
    ``dataset:NAME@V``, ``model:NAME/V``, ``deployment:NAME``, ``pipeline-run:ID``."""
    graph = lineage.graph(caller.scope, ref, direction, depth)
    return wire(LineageOut, LineageOut.of(graph))


@router.post("/pipeline-objects/missing", response_model=MissingOut)
def missing_objects(body: MissingAsk, request: Request, caller: Reader) -> Response:
    """Which of the objects (digest and size) the workspace does not store."""
    asked = [(o.digest, o.size) for o in body.objects]
    return wire(MissingOut, {"missing": _objects(request, caller).missing(asked)})


@router.put(
    "/pipeline-objects/{digest}",
    status_code=204,
    openapi_extra=upload_body("application/octet-stream"),
)
async def put_object(digest: ObjectDigest, request: Request, caller: Writer) -> Response:
    """One object, stored once its XXH3-128 digest is the URL's (else 422, nothing stored).
    Its size is checked against the limit before the body is read, and while it streams."""
    limit = request.app.state.settings.max_artifact_bytes
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"one object is at most {limit} bytes")
    objects = _objects(request, caller)
    folder = Path(await run_in_threadpool(tempfile.mkdtemp, prefix="gnomon-pipeline-upload-"))
    try:
        local = folder / "object"
        hasher = xxhash.xxh3_128()
        seen = 0
        async with await anyio.open_file(local, "wb") as sink:
            async for chunk in request.stream():
                seen += len(chunk)
                if seen > limit:
                    raise PayloadTooLarge(f"one object is at most {limit} bytes")
                hasher.update(chunk)
                await sink.write(chunk)
        await run_in_threadpool(objects.put, local, digest, hasher.hexdigest())
    finally:
        await run_in_threadpool(_remove, folder)
    return Response(status_code=204)


@router.get(
    "/pipeline-objects/{digest}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The bytes."}},
)
def get_object(digest: ObjectDigest, request: Request, caller: Reader) -> Any:
    """One object's bytes, checked against its digest before they are sent."""
    objects = _objects(request, caller)
    folder = Path(tempfile.mkdtemp(prefix="gnomon-pipeline-object-"))
    try:
        local = objects.fetch(digest, folder)
    except BaseException:
        _remove(folder)
        raise
    return FileResponse(
        local,
        media_type="application/octet-stream",
        headers={"X-Gnomon-Digest": digest},
        background=BackgroundTask(_remove, folder),
    )


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
