"""MLflow's proxied artifact API (``/api/2.0/mlflow-artifacts/artifacts``) over a run's
artifacts: what MLflow's client calls for an ``mlflow-artifacts:/`` artifact URI.

A path is ``<experiment id>/<run id>/artifacts/<key>``, the layout the MLflow routes give
runs (``rest_wire.run_info_json``). The run must be in the caller's workspace and in that
experiment; uploads and downloads are the tracking routes' own, with their checks and limits.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from gnomon.errors import InvalidInput, NotFound
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


def _run_key(service: TrackingService, caller: Caller, path: str) -> tuple[str, str]:
    """The run id and artifact key ``path`` names, once the run is known to be there."""
    parts = path.strip("/").split("/", 3)
    if len(parts) < 3 or parts[2] != RUN_ARTIFACTS:
        raise InvalidInput(
            f"artifact path {path!r} is not <experiment id>/<run id>/artifacts[/<path>]"
        )
    experiment_id, run_id = parts[0], parts[1]
    run = service.get_run(caller.scope, run_id)
    if run.experiment_id != experiment_id:
        raise NotFound(f"run {run_id!r} not found in experiment {experiment_id!r}")
    return run_id, parts[3] if len(parts) == 4 else ""


@router.get(ROOT)
def list_artifacts(caller: Reader, service: Service, path: Text = "") -> Response:
    run_id, key = _run_key(service, caller, path)
    files = service.list_artifacts(caller.scope, run_id, key)
    entries = []
    for info in files:
        name = info.path.rsplit("/", 1)[-1]
        entry: dict[str, Any] = {"path": name, "is_dir": info.is_dir}
        if info.size is not None and not info.is_dir:
            entry["file_size"] = info.size
        entries.append(entry)
    return answer({"files": entries})


@router.put(
    ROOT + "/{path:path}",
    openapi_extra=upload_body("application/octet-stream"),  # the large upload limit
)
async def upload_artifact(
    path: Text, request: Request, caller: Writer, service: Service
) -> Response:
    run_id, key = _run_key(service, caller, path)
    if not key:
        raise InvalidInput("an upload needs a file path under the run's artifacts")
    await tracking_routes.upload_artifact(run_id, key, request, caller, service)
    return answer({})


@router.get(ROOT + "/{path:path}")
def download_artifact(path: Text, caller: Reader, service: Service) -> Any:
    run_id, key = _run_key(service, caller, path)
    if not key:
        raise InvalidInput("a download needs a file path under the run's artifacts")
    return tracking_routes.download_artifact(run_id, key, caller, service)
