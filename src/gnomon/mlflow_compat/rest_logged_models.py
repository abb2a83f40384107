"""MLflow 3's logged-model API (``/api/2.0/mlflow/logged-models``) and run outputs, over
``LoggedModelService``: what ``mlflow.<flavor>.log_model`` calls through MLflow's client."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from gnomon.auth.entities import AuditAction
from gnomon.errors import Conflict, InvalidInput, NotFound
from gnomon.mlflow_compat.logged_models import LoggedModel, LoggedModelService, ModelStatus
from gnomon.mlflow_compat.rest_tracking import API, Reader, Writer
from gnomon.mlflow_compat.rest_wire import (
    ARTIFACTS_SCHEME,
    MAX_LIST_ITEMS,
    Body,
    Int64,
    KeyValue,
    MaxResults,
    answer,
    as_dict,
    equality_filter,
    max_results,
    page_answer,
    run_id_of,
)
from gnomon.registry.service import RegistryService
from gnomon.server.access import Caller
from gnomon.server.audit import audit
from gnomon.tracking.schemas import MAX_EXPERIMENTS
from gnomon.wire import Text

PREFIX = ""
router = APIRouter(tags=["mlflow"])
MODELS = f"{API}/logged-models"
LOGGED_MODEL = "mlflow_logged_model"  # the audit log's object type
MODEL_ARTIFACTS = "models"  # <experiment id>/models/<model id>/artifacts/<key>
_STATUSES = {
    "LOGGED_MODEL_PENDING": ModelStatus.PENDING,
    "LOGGED_MODEL_READY": ModelStatus.READY,
    "LOGGED_MODEL_UPLOAD_FAILED": ModelStatus.FAILED,
}
_NAMES = {status: name for name, status in _STATUSES.items()}


async def _models(request: Request) -> LoggedModelService:
    return request.app.state.services.get(LoggedModelService)  # type: ignore[no-any-return]


async def _registry(request: Request) -> RegistryService:
    return request.app.state.services.get(RegistryService)  # type: ignore[no-any-return]


Models = Annotated[LoggedModelService, Depends(_models)]
Registry = Annotated[RegistryService, Depends(_registry)]


def model_artifacts_uri(model: LoggedModel) -> str:
    """Where MLflow's client reads and writes the model's files (``rest_artifacts``)."""
    return f"{ARTIFACTS_SCHEME}/{model.experiment_id}/{MODEL_ARTIFACTS}/{model.id}/artifacts"


def model_json(model: LoggedModel) -> dict[str, Any]:
    artifacts = model_artifacts_uri(model)
    info: dict[str, Any] = {
        "model_id": model.id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "artifact_uri": artifacts,
        "creation_timestamp_ms": model.created_time,
        "last_updated_timestamp_ms": model.updated_time,
        "status": _NAMES[model.status],
        "model_type": model.model_type,
        "tags": [{"key": k, "value": val} for k, val in model.tags.items()],
    }
    if model.source_run_id:
        info["source_run_id"] = model.source_run_id
    params = [{"key": k, "value": val} for k, val in model.params.items()]
    return {"info": info, "data": {"params": params, "metrics": []}}


class CreateModel(Body):
    experiment_id: Text
    name: Text
    model_type: Text | None = None
    source_run_id: Text | None = None
    params: list[KeyValue] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    tags: list[KeyValue] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)


class FinalizeModel(Body):
    status: Text


class ModelTags(Body):
    tags: list[KeyValue] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)


class ModelParams(Body):
    params: list[KeyValue] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)


class SearchModels(Body):
    experiment_ids: list[Text] = Field(min_length=1, max_length=MAX_EXPERIMENTS)
    filter: Text | None = None
    max_results: MaxResults
    page_token: Text | None = None


class ModelOutput(Body):
    model_id: Text
    step: Int64 = 0


class LogOutputs(Body):
    run_id: Text | None = None
    run_uuid: Text | None = None
    models: list[ModelOutput] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)


@router.post(MODELS)
def create_model(body: CreateModel, request: Request, caller: Writer, models: Models) -> Response:
    model = models.create(
        caller.scope,
        body.experiment_id,
        body.name,
        source_run_id=body.source_run_id,
        model_type=body.model_type or "",
        params=as_dict(body.params),
        tags=as_dict(body.tags),
    )
    audit(request, caller, AuditAction.CREATE, LOGGED_MODEL, model.id)
    return answer({"model": model_json(model)})


@router.post(f"{MODELS}/search")
def search_models(body: SearchModels, caller: Reader, models: Models) -> Response:
    terms = equality_filter(body.filter or "", ("name", "source_run_id"), "logged models")
    found, token = models.search(
        caller.scope,
        body.experiment_ids,
        name=terms.get("name"),
        source_run_id=terms.get("source_run_id"),
        max_results=max_results(body.max_results, 100),
        page_token=body.page_token,
    )
    return page_answer("models", [model_json(m) for m in found], token)


@router.get(MODELS + "/{model_id}")
def get_model(model_id: Text, caller: Reader, models: Models) -> Response:
    return answer({"model": model_json(models.get(caller.scope, model_id))})


@router.patch(MODELS + "/{model_id}")
def finalize_model(
    model_id: Text, body: FinalizeModel, request: Request, caller: Writer, models: Models
) -> Response:
    status = _STATUSES.get(body.status)
    if status is None:
        raise InvalidInput(f"status {body.status!r} is not one of {', '.join(_STATUSES)}")
    model = models.finalize(caller.scope, model_id, status)
    audit(request, caller, AuditAction.UPDATE, LOGGED_MODEL, model_id, {"status": status})
    return answer({"model": model_json(model)})


@router.delete(MODELS + "/{model_id}")
def delete_model(
    model_id: Text, request: Request, caller: Writer, models: Models, registry: Registry
) -> Response:
    """A model a registered version points at is kept: the version would lose its files."""
    model = models.get(caller.scope, model_id)
    if model.status is ModelStatus.READY:
        _check_unregistered(registry, caller, model)
    models.delete_files(model)  # files first: a failure leaves the record, never orphans
    models.delete(caller.scope, model_id)
    audit(request, caller, AuditAction.DELETE, LOGGED_MODEL, model_id)
    return answer({})


def _check_unregistered(registry: RegistryService, caller: Caller, model: LoggedModel) -> None:
    if model.source_run_id is None:
        raise Conflict(
            f"logged model {model.id!r} is READY and has no run, so its registrations cannot be "
            "looked up: it is kept"
        )
    source = f"models:/{model.id}"
    token = None
    while True:
        page = registry.search_versions(
            caller.scope, run_id=model.source_run_id, max_results=1_000, page_token=token
        )
        for version in page.items:
            if version.source == source:
                raise Conflict(
                    f"logged model {model.id!r} is version {version.version} of "
                    f"{version.model_name!r}: delete that version first"
                )
        token = page.next_page_token
        if token is None:
            return


@router.patch(MODELS + "/{model_id}/tags")
def set_model_tags(
    model_id: Text, body: ModelTags, request: Request, caller: Writer, models: Models
) -> Response:
    tags = as_dict(body.tags)
    models.set_tags(caller.scope, model_id, tags)
    audit(request, caller, AuditAction.UPDATE, LOGGED_MODEL, model_id, {"tags": list(tags)})
    return answer({})


@router.delete(MODELS + "/{model_id}/tags/{key}")
def delete_model_tag(
    model_id: Text, key: Text, request: Request, caller: Writer, models: Models
) -> Response:
    models.delete_tag(caller.scope, model_id, key)
    audit(request, caller, AuditAction.UPDATE, LOGGED_MODEL, model_id, {"tag_deleted": key})
    return answer({})


@router.post(MODELS + "/{model_id}/params")
def log_model_params(model_id: Text, body: ModelParams, caller: Writer, models: Models) -> Response:
    models.log_params(caller.scope, model_id, as_dict(body.params))
    return answer({})


@router.post(f"{API}/runs/outputs")
def log_outputs(body: LogOutputs, caller: Writer, models: Models) -> Response:
    """A run's outputs are the models it logged: each must be one of the run's own."""
    run_id = run_id_of(body.run_id, body.run_uuid)
    for output in body.models:
        model = models.get(caller.scope, output.model_id)
        if model.source_run_id != run_id:
            raise NotFound(f"logged model {output.model_id!r} was not logged by run {run_id!r}")
    return answer({})
