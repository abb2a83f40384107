"""Registry routes that reach the registry's storage through the ``Registrar``: importing a
model archive, reading and editing a version's contract, downloading a version's files, and
recording the models runs log. Nothing here loads a model: files are checked (description,
paths, hashes) and stored, never unpickled.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from gnomon.auth.entities import AuditAction
from gnomon.errors import InvalidInput
from gnomon.registry.archive import extract_model_archive
from gnomon.registry.entities import ModelVersion
from gnomon.registry.http import VERSION_HEADER
from gnomon.registry.registration import IMPORT_SOURCE, MODEL_FILE, Registrar, described
from gnomon.registry.routes import Copier, Reader, Registry, Writer, audit_version, selector
from gnomon.registry.schemas import (
    ContractBody,
    LoggedModelOut,
    ModelVersionOut,
    RecordLoggedModel,
    VersionSelector,
)
from gnomon.server.access import Caller
from gnomon.server.audit import audit
from gnomon.server.guard import upload_body
from gnomon.server.respond import wire
from gnomon.tracking.http import ARCHIVE_HEADER
from gnomon.wire import Text

router = APIRouter(tags=["registry"])


@router.post(
    "/models/{name}/import",
    status_code=201,
    response_model=ModelVersionOut,
    openapi_extra=upload_body("application/gzip"),  # the large upload limit
)
async def import_version(
    name: Text,
    request: Request,
    caller: Writer,
    registrar: Copier,
    source: Annotated[Text, Query(description="A label; never a runs:/ or models:/ URI.")] = (
        IMPORT_SOURCE
    ),
    description: Text = "",
    alias: Text | None = None,
) -> Response:
    """Register an uploaded ``.tar.gz`` of a gnomon model folder as the next version.

    Its ``run_id`` is always empty: an upload cannot prove it came from a run. Every
    blocking step (file writes, unpacking, hashing, database, audit) runs in a worker thread.
    """
    folder = Path(await run_in_threadpool(tempfile.mkdtemp, prefix="gnomon-import-"))
    try:
        archive = folder / "model.tar.gz"
        async with await anyio.open_file(archive, "wb") as sink:
            async for chunk in request.stream():
                await sink.write(chunk)
        what = (name, source, description, alias)
        version = await run_in_threadpool(
            _import_archive, request, caller, registrar, archive, what
        )
    finally:
        await run_in_threadpool(_remove, folder)
    return wire(ModelVersionOut, version, 201)


@router.get("/models/{name}/versions/{version}/contract", response_model=ContractBody | None)
def get_contract(
    name: Text, version: VersionSelector, caller: Reader, registrar: Copier
) -> Response:
    """The version's input contract (``null``: it was saved without an input example)."""
    contract = registrar.read_contract(caller.scope, name, selector(version))
    return wire(ContractBody | None, None if contract is None else ContractBody.of(contract))


@router.put("/models/{name}/versions/{version}/contract", response_model=ModelVersionOut)
def set_contract(
    name: Text,
    version: VersionSelector,
    body: ContractBody,
    request: Request,
    caller: Writer,
    registrar: Copier,
) -> Response:
    updated = registrar.write_contract(caller.scope, name, selector(version), body.contract())
    audit_version(request, caller, AuditAction.UPDATE, updated, {"contract": True})
    return wire(ModelVersionOut, updated)


@router.get("/models/{name}/versions/{version}/files", response_class=FileResponse)
def download_version(
    name: Text, version: VersionSelector, caller: Reader, registry: Registry, registrar: Copier
) -> Any:
    """The version's model folder as one ``.tar.gz`` (its number in ``X-Gnomon-Version``)."""
    found = registry.resolve(caller.scope, name, selector(version))
    folder = Path(tempfile.mkdtemp(prefix="gnomon-download-"))
    try:
        uri = f"models:/{found.model_name}/{found.version}"
        local = registrar.download_version(caller.scope, uri, folder / "model")
        archive = shutil.make_archive(str(folder / "model"), "gztar", local)
    except BaseException:
        _remove(folder)
        raise
    headers = {ARCHIVE_HEADER: "1", VERSION_HEADER: str(found.version)}
    return FileResponse(
        archive,
        media_type="application/gzip",
        headers=headers,
        background=BackgroundTask(_remove, folder),
    )


# -- models logged by runs ------------------------------------------------------------------


@router.post("/runs/{run_id}/logged-models", status_code=201, response_model=LoggedModelOut)
def record_logged_model(
    run_id: Text, body: RecordLoggedModel, request: Request, caller: Writer, registrar: Copier
) -> Response:
    """Hash the model folder the run stored at ``path`` (here, from storage) and record it;
    the run's artifacts under ``path`` are sealed from then on."""
    logged = registrar.record_logged_model(caller.scope, run_id, body.path)
    audit(request, caller, AuditAction.CREATE, "logged_model", f"{run_id}/{logged.path}")
    return wire(LoggedModelOut, logged, 201)


@router.get("/runs/{run_id}/logged-models/{path:path}", response_model=LoggedModelOut)
def get_logged_model(run_id: Text, path: Text, caller: Reader, registrar: Copier) -> Response:
    """The digests recorded when the run logged its model at ``path``."""
    return wire(LoggedModelOut, registrar.get_logged_model(caller.scope, run_id, path))


def _import_archive(
    request: Request,
    caller: Caller,
    registrar: Registrar,
    archive: Path,
    what: tuple[str, str, str, str | None],
) -> ModelVersion:
    """Unpack, register and audit an upload: checked (YAML, paths, hashes), never loaded
    here; errors never name the server's temporary folder."""
    name, source, description, alias = what
    folder = archive.parent / "model"
    with described(archive.parent, "the upload"):
        extract_model_archive(archive, folder, request.app.state.settings.max_artifact_bytes)
        if not (folder / MODEL_FILE).is_file():
            raise InvalidInput(f"the uploaded archive holds no {MODEL_FILE} at its top")
        version = registrar.import_folder(
            caller.scope,
            folder,
            name,
            source=source,
            description=description,
            alias=alias,
            shown_as="the uploaded model",
        )
    audit_version(request, caller, AuditAction.CREATE, version, {"source": version.source})
    return version


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
