"""Dataset REST routes under /api/v1: thin handlers over DatasetService.

The routes check the workspace role; the service checks each dataset's access list (it is
handed a ``CallerScope``), so a restricted dataset is hidden on every route alike. Uploads
(``PUT /dataset-objects/{digest}``) are streamed to a temporary file, hashed and checked
before anything is stored; downloads are copied from the store to a temporary file and
streamed from there.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from gnomon.auth.entities import AuditAction, Role
from gnomon.data.access import CallerScope
from gnomon.data.entries import MAX_OBJECT_BYTES
from gnomon.data.schemas import (
    AccessOut,
    AddResultOut,
    CollectAsk,
    CollectedOut,
    DatasetOut,
    DiffOut,
    LogInput,
    ManifestOut,
    MissingAsk,
    MissingOut,
    NewVersion,
    RunInputOut,
    SchemaEdit,
    SetAccess,
    UsedByOut,
    VersionOut,
)
from gnomon.data.service import DatasetService
from gnomon.errors import NotFound, PayloadTooLarge
from gnomon.server.access import Access, Caller, require
from gnomon.server.audit import audit
from gnomon.server.guard import upload_body
from gnomon.server.respond import wire
from gnomon.wire import Text

router = APIRouter(tags=["datasets"])

Reader = Annotated[Caller, Depends(require(Access.VIEWER))]
Writer = Annotated[Caller, Depends(require(Access.EDITOR))]
WorkspaceAdmin = Annotated[Caller, Depends(require(Access.WORKSPACE_ADMIN))]
VersionText = Text  # a version number or "latest"


async def _datasets(request: Request) -> DatasetService:  # async: no threadpool hop
    service: DatasetService = request.app.state.services.get(DatasetService)
    return service


Datasets = Annotated[DatasetService, Depends(_datasets)]


def scope_of(caller: Caller) -> CallerScope:
    """The caller's scope, saying whether they administer the workspace."""
    scope = caller.scope
    return CallerScope(scope.workspace, scope.principal, admin=caller.role is Role.ADMIN)


def _ref(name: str, version: str) -> str:
    return f"{name}@{version}"


@router.get("/datasets", response_model=list[DatasetOut])
def list_datasets(caller: Reader, datasets: Datasets) -> Response:
    return wire(list[DatasetOut], datasets.list(scope_of(caller)))


@router.get("/datasets/{name}", response_model=DatasetOut)
def get_dataset(name: Text, caller: Reader, datasets: Datasets) -> Response:
    return wire(DatasetOut, datasets.get(scope_of(caller), name))


@router.get("/datasets/{name}/versions", response_model=list[VersionOut])
def list_versions(name: Text, caller: Reader, datasets: Datasets) -> Response:
    """Every version, newest first."""
    return wire(list[VersionOut], datasets.versions(scope_of(caller), name))


@router.post("/datasets/{name}/versions", status_code=201, response_model=AddResultOut)
def add_version(
    name: Text, body: NewVersion, request: Request, caller: Writer, datasets: Datasets
) -> Response:
    """A version of objects uploaded before: each must be stored with the size given.
    Unchanged content makes no new version (``created`` false, status 200)."""
    result = datasets.add_manifest(
        scope_of(caller),
        name,
        [entry.entity() for entry in body.files],
        message=body.message,
        source=body.source or {"kind": "upload"},
        run_id=body.run_id,
    )
    if result.created:
        details = {"version": result.version.version, "files": result.version.files}
        audit(request, caller, AuditAction.CREATE, "dataset", name, details)
    return wire(AddResultOut, AddResultOut.of(result), 201 if result.created else 200)


@router.get("/datasets/{name}/versions/{version}", response_model=VersionOut)
def get_version(name: Text, version: VersionText, caller: Reader, datasets: Datasets) -> Response:
    return wire(VersionOut, datasets.version(scope_of(caller), _ref(name, version)))


@router.get("/datasets/{name}/versions/{version}/manifest", response_model=ManifestOut)
def get_manifest(name: Text, version: VersionText, caller: Reader, datasets: Datasets) -> Response:
    manifest = datasets.manifest(scope_of(caller), _ref(name, version))
    return wire(ManifestOut, {"digest": manifest.digest, "files": manifest.files})


@router.get("/datasets/{name}/versions/{version}/files/{path:path}", response_class=FileResponse)
def download_file(
    name: Text, version: VersionText, path: Text, caller: Reader, datasets: Datasets
) -> Any:
    """One file of the version by its path in the manifest (its digest checked on the way)."""
    scope = scope_of(caller)
    entry = datasets.manifest(scope, _ref(name, version)).by_path().get(path)
    if entry is None:
        raise NotFound(f"{name}@{version} holds no file {path[:200]!r}", {"path": path[:200]})
    folder = Path(tempfile.mkdtemp(prefix="gnomon-dataset-file-"))
    try:
        local = folder / "content"
        datasets.objects(scope).fetch(entry, local)
    except BaseException:
        _remove(folder)
        raise
    return FileResponse(
        local,
        media_type="application/octet-stream",
        headers={"X-Gnomon-Digest": entry.digest},
        background=BackgroundTask(_remove, folder),
    )


@router.get("/datasets/{name}/versions/{version}/described", response_model=dict[str, Any])
def get_described(name: Text, version: VersionText, caller: Reader, datasets: Datasets) -> Response:
    """A table version's inferred schema and its check when it was added."""
    found = datasets.described(scope_of(caller), _ref(name, version))
    return wire(dict[str, Any], found.to_dict())


@router.get("/datasets/{name}/versions/{version}/profile", response_model=dict[str, Any])
def get_profile(name: Text, version: VersionText, caller: Reader, datasets: Datasets) -> Response:
    """A table version's profile (computed on first request, then stored)."""
    from gnomon.data.profile import version_profile

    return wire(dict[str, Any], version_profile(datasets, scope_of(caller), _ref(name, version)))


@router.get("/datasets/{name}/versions/{version}/comparison", response_model=dict[str, Any])
def get_comparison(
    name: Text,
    version: VersionText,
    caller: Reader,
    datasets: Datasets,
    to: Annotated[Text, Query(max_length=1024, description="The other version: NAME@V.")],
) -> Response:
    """Two table versions' profiles, with shared numeric columns on the same bins (what a
    client draws a comparison page from)."""
    from gnomon.data.profile import comparison

    found = comparison(datasets, scope_of(caller), _ref(name, version), to)
    return wire(dict[str, Any], found)


@router.get("/datasets/{name}/versions/{version}/diff", response_model=DiffOut)
def diff_versions(
    name: Text,
    version: VersionText,
    caller: Reader,
    datasets: Datasets,
    to: Annotated[Text, Query(max_length=1024, description="The later version: NAME@V.")],
) -> Response:
    return wire(DiffOut, datasets.diff(scope_of(caller), _ref(name, version), to))


@router.get("/datasets/{name}/versions/{version}/used-by", response_model=UsedByOut)
def used_by(name: Text, version: VersionText, caller: Reader, datasets: Datasets) -> Response:
    """The runs that used the version, newest first, and the model versions they made."""
    return wire(UsedByOut, datasets.used_by(scope_of(caller), _ref(name, version)))


@router.get("/datasets/{name}/schema", response_model=dict[str, Any])
def get_schema(name: Text, caller: Reader, datasets: Datasets) -> Response:
    schema, revision = datasets.schema(scope_of(caller), name)
    return wire(dict[str, Any], {**schema.to_dict(), "revision": revision})


@router.patch("/datasets/{name}/schema", response_model=dict[str, Any])
def edit_schema(
    name: Text, body: SchemaEdit, request: Request, caller: Writer, datasets: Datasets
) -> Response:
    """Tighten or loosen one column; later versions are validated against the result."""
    changed = datasets.edit_schema(scope_of(caller), name, body.column, body.changes)
    audit(request, caller, AuditAction.UPDATE, "dataset", name, {"column": body.column})
    return wire(dict[str, Any], changed.to_dict())


@router.get("/datasets/{name}/access", response_model=AccessOut)
def get_access(name: Text, caller: Reader, datasets: Datasets) -> Response:
    return wire(AccessOut, AccessOut.of(datasets.access(scope_of(caller), name)))


@router.put("/datasets/{name}/access", response_model=AccessOut)
def set_access(
    name: Text, body: SetAccess, request: Request, caller: Writer, datasets: Datasets
) -> Response:
    """Restrict the dataset to the users listed (both lists empty: open it again). The
    workspace's admins and the dataset's writers may change it."""
    changed = datasets.set_access(scope_of(caller), name, body.readers, body.writers)
    details = {"readers": list(changed.readers), "writers": list(changed.writers)}
    audit(request, caller, AuditAction.UPDATE, "dataset_access", name, details)
    return wire(AccessOut, AccessOut.of(changed))


@router.get("/runs/{run_id}/inputs", response_model=list[RunInputOut])
def run_inputs(run_id: Text, caller: Reader, datasets: Datasets) -> Response:
    return wire(list[RunInputOut], datasets.inputs(scope_of(caller), run_id))


@router.post("/runs/{run_id}/inputs", response_model=VersionOut)
def log_input(
    run_id: Text, body: LogInput, request: Request, caller: Writer, datasets: Datasets
) -> Response:
    """Record that the run used a version (again: a no-op)."""
    used = datasets.log_input(scope_of(caller), run_id, body.ref, body.context)
    audit(request, caller, AuditAction.UPDATE, "run", run_id, {"input": used.ref})
    return wire(VersionOut, used)


@router.post("/dataset-objects/missing", response_model=MissingOut)
def missing_objects(body: MissingAsk, caller: Writer, datasets: Datasets) -> Response:
    """Which of the digests the workspace lacks: upload those, then make the version."""
    return wire(MissingOut, {"missing": datasets.missing(scope_of(caller), body.digests)})


@router.post("/dataset-objects/collect", response_model=CollectedOut)
def collect_objects(
    body: CollectAsk, request: Request, caller: WorkspaceAdmin, datasets: Datasets
) -> Response:
    """Remove the workspace's content objects no version names, stored before the grace
    period (``gnomon data gc``); with ``dry_run``, count them."""
    done = datasets.collect(scope_of(caller), grace_s=body.grace_s, dry_run=body.dry_run)
    if not done.dry_run and done.objects:
        audit(
            request, caller, AuditAction.DELETE, "dataset objects", f"{done.objects} unnamed",
            {"bytes": done.bytes},
        )  # fmt: skip
    return wire(CollectedOut, dataclasses.asdict(done))


@router.put(
    "/dataset-objects/{digest}",
    status_code=204,
    openapi_extra=upload_body("application/octet-stream"),
)
async def put_object(
    digest: Text, request: Request, caller: Writer, datasets: Datasets
) -> Response:
    """One file's content, stored once its XXH3-128 digest is the URL's (else 422, nothing
    stored). Its size is checked against the limit before the body is read, and while it
    streams when no length was declared."""
    from gnomon.data.objects import digest_hex

    digest_hex(digest)
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_OBJECT_BYTES:
        raise PayloadTooLarge(f"one object is at most {MAX_OBJECT_BYTES} bytes")
    folder = Path(await run_in_threadpool(tempfile.mkdtemp, prefix="gnomon-upload-"))
    try:
        local = folder / "object"
        seen = 0
        async with await anyio.open_file(local, "wb") as sink:
            async for chunk in request.stream():
                seen += len(chunk)
                if seen > MAX_OBJECT_BYTES:
                    raise PayloadTooLarge(f"one object is at most {MAX_OBJECT_BYTES} bytes")
                await sink.write(chunk)
        await run_in_threadpool(datasets.put_object, scope_of(caller), digest, local)
    finally:
        await run_in_threadpool(_remove, folder)
    return Response(status_code=204)


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
