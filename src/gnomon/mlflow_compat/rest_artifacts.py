"""MLflow's proxied artifact API (``/api/2.0/mlflow-artifacts/artifacts``): what MLflow's
client calls for an ``mlflow-artifacts:/`` artifact URI.

Two layouts, the ones the MLflow routes hand out: a run's artifacts,
``<experiment id>/<run id>/artifacts/<key>`` (``rest_wire.run_info_json``), and a logged
model's files, ``<experiment id>/models/<model id>/artifacts/<key>`` (``model_json``). The
run or model must be the caller's workspace's and in that experiment. Run files go through
the tracking routes, with their checks; a logged model takes files only while PENDING.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from gnomon.artifacts import ArtifactInfo, ArtifactStore
from gnomon.artifacts.keys import clean_key
from gnomon.errors import InvalidInput, NotFound
from gnomon.mlflow_compat.logged_models import LoggedModel, LoggedModelService
from gnomon.mlflow_compat.rest_logged_models import MODEL_ARTIFACTS, Models
from gnomon.mlflow_compat.rest_wire import RUN_ARTIFACTS, answer
from gnomon.server.access import Caller
from gnomon.server.guard import upload_body
from gnomon.tracking import routes as tracking_routes
from gnomon.tracking.routes import Reader, Service, Writer
from gnomon.tracking.service import TrackingService
from gnomon.wire import Text

PREFIX = ""
router = APIRouter(tags=["mlflow"])
ROOT = "/api/2.0/mlflow-artifacts/artifacts"


@dataclass(frozen=True, slots=True)
class Target:
    """What an artifact path names: a run's artifacts or a logged model's files, and a key."""

    key: str
    run_id: str | None = None
    model: LoggedModel | None = None


def _target(
    service: TrackingService, models: LoggedModelService, caller: Caller, path: str
) -> Target:
    parts = path.strip("/").split("/")
    experiment_id = parts[0]
    if len(parts) >= 4 and parts[1] == MODEL_ARTIFACTS and parts[3] == RUN_ARTIFACTS:
        model = models.get(caller.scope, parts[2])
        if model.experiment_id != experiment_id:
            raise NotFound(f"logged model {parts[2]!r} not found in experiment {experiment_id!r}")
        return Target("/".join(parts[4:]), model=model)
    if len(parts) >= 3 and parts[2] == RUN_ARTIFACTS:
        run = service.get_run(caller.scope, parts[1])
        if run.experiment_id != experiment_id:
            raise NotFound(f"run {parts[1]!r} not found in experiment {experiment_id!r}")
        return Target("/".join(parts[3:]), run_id=run.id)
    raise InvalidInput(
        f"artifact path {path!r} is not <experiment id>/<run id>/artifacts[/<path>] "
        "or <experiment id>/models/<model id>/artifacts[/<path>]"
    )


@router.get(ROOT)
def list_artifacts(caller: Reader, service: Service, models: Models, path: Text = "") -> Response:
    target = _target(service, models, caller, path)
    if target.model is not None:
        key = clean_key(target.key) if target.key else ""
        files = models.store(target.model).list(key)
    else:
        assert target.run_id is not None
        files = service.list_artifacts(caller.scope, target.run_id, target.key)
    return answer({"files": [_entry(info) for info in files]})


@router.put(
    ROOT + "/{path:path}",
    openapi_extra=upload_body("application/octet-stream"),  # the large upload limit
)
async def upload_artifact(
    path: Text, request: Request, caller: Writer, service: Service, models: Models
) -> Response:
    target = await run_in_threadpool(_target, service, models, caller, path)
    if not target.key:
        raise InvalidInput("an upload needs a file path below the artifacts folder")
    if target.run_id is not None:
        await tracking_routes.upload_artifact(target.run_id, target.key, request, caller, service)
        return answer({})
    assert target.model is not None
    key = clean_key(target.key)
    # A finalized model is sealed: refused before any of the body is read.
    model = await run_in_threadpool(models.check_upload, caller.scope, target.model.id)
    async with tracking_routes.received_body(request) as local:
        await run_in_threadpool(models.store(model).put_file, local, key)
    return answer({})


@router.get(ROOT + "/{path:path}")
def download_artifact(path: Text, caller: Reader, service: Service, models: Models) -> Any:
    target = _target(service, models, caller, path)
    if not target.key:
        raise InvalidInput("a download needs a file path below the artifacts folder")
    if target.run_id is not None:
        return tracking_routes.download_artifact(target.run_id, target.key, caller, service)
    assert target.model is not None
    return _file(models.store(target.model), clean_key(target.key))


def _file(store: ArtifactStore, key: str) -> FileResponse:
    folder = tempfile.mkdtemp(prefix="gnomon-download-")
    try:
        local = store.download(key, Path(folder))
        if local.is_dir():
            raise InvalidInput(f"{key!r} is a folder: list it, then download its files")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(local, background=BackgroundTask(shutil.rmtree, folder, True))


def _entry(info: ArtifactInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": info.path.rsplit("/", 1)[-1], "is_dir": info.is_dir}
    if info.size is not None and not info.is_dir:
        entry["file_size"] = info.size
    return entry
