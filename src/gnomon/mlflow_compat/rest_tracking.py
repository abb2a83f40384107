"""MLflow's tracking REST API (``/api/2.0/mlflow/...``) over gnomon's TrackingService, so
the MLflow client (``MLFLOW_TRACKING_URI=http://gnomon-server``) logs into gnomon.

Each route is a thin translation: the same service, rules, limits, roles and workspaces as
``/api/v1``; MLflow's names for fields and statuses on the wire. A workspace is picked by
MLflow's ``X-MLFLOW-WORKSPACE`` header (``MLFLOW_WORKSPACE``) as by gnomon's own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import Field

from gnomon._version import __version__
from gnomon.auth.entities import AuditAction
from gnomon.errors import InvalidInput
from gnomon.mlflow_compat.rest_wire import (
    MAX_LIST_ITEMS,
    PARENT_TAG,
    STATUSES,
    VIEW_TYPES,
    Body,
    Int64,
    KeyValue,
    MaxResults,
    MetricIn,
    ViewType,
    answer,
    as_dict,
    experiment_json,
    max_results,
    metric_json,
    metrics_of,
    page_answer,
    run_id_of,
    run_info_json,
    run_json,
    view_type,
)
from gnomon.server.access import Access, Caller, require
from gnomon.server.audit import audit
from gnomon.tracking.entities import Lifecycle, Metric
from gnomon.tracking.schemas import MAX_EXPERIMENTS, MAX_SEARCH_TERMS
from gnomon.tracking.search import build_query
from gnomon.tracking.service import TrackingService
from gnomon.wire import Text

PREFIX = ""  # mounted at the server's root: MLflow's paths are its own
router = APIRouter(tags=["mlflow"])

Reader = Annotated[Caller, Depends(require(Access.VIEWER))]
Writer = Annotated[Caller, Depends(require(Access.EDITOR))]
Anyone = Annotated[Caller, Depends(require(Access.PUBLIC))]
API = "/api/2.0/mlflow"
_MLFLOW_SEARCH_DEFAULT = 1_000  # MLflow's default page of runs and experiments


async def _service(request: Request) -> TrackingService:
    service: TrackingService = request.app.state.services.tracking
    return service


Service = Annotated[TrackingService, Depends(_service)]


@router.get("/version", response_class=PlainTextResponse)
def version(caller: Anyone) -> PlainTextResponse:
    """What MLflow's client asks a server for first (it tolerates any version string)."""
    return PlainTextResponse(__version__)


@router.get("/api/3.0/mlflow/server-info")
def server_info(caller: Anyone) -> Response:
    # MLFLOW_WORKSPACE works because gnomon has workspaces; uploads are single requests.
    return answer(
        {
            "store_type": "SqlStore",
            "workspaces_enabled": True,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
        }
    )


# -- experiments -----------------------------------------------------------------------------


class CreateExperiment(Body):
    name: Text
    artifact_location: Text | None = None
    tags: list[KeyValue] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)


class ExperimentId(Body):
    experiment_id: Text


class UpdateExperiment(Body):
    experiment_id: Text
    new_name: Text


class SearchExperiments(Body):
    max_results: MaxResults
    page_token: Text | None = None
    filter: Text | None = None
    order_by: list[Text] = Field(default_factory=list, max_length=MAX_SEARCH_TERMS)
    view_type: ViewType = None


@router.post(f"{API}/experiments/create")
def create_experiment(
    body: CreateExperiment, request: Request, caller: Writer, service: Service
) -> Response:
    if body.artifact_location:
        raise InvalidInput(
            "artifact_location cannot be chosen: gnomon keeps each experiment's artifacts "
            "in the server's artifact store"
        )
    if body.tags:
        raise InvalidInput("experiment tags are not kept by gnomon: create it without tags")
    experiment = service.create_experiment(caller.scope, body.name)
    audit(request, caller, AuditAction.CREATE, "experiment", experiment.id, {"name": body.name})
    return answer({"experiment_id": experiment.id})


@router.get(f"{API}/experiments/get")
def get_experiment(experiment_id: Text, caller: Reader, service: Service) -> Response:
    experiment = service.get_experiment(caller.scope, experiment_id)
    return answer({"experiment": experiment_json(experiment)})


@router.get(f"{API}/experiments/get-by-name")
def get_experiment_by_name(experiment_name: Text, caller: Reader, service: Service) -> Response:
    experiment = service.get_experiment_by_name(caller.scope, experiment_name)
    return answer({"experiment": experiment_json(experiment)})


@router.post(f"{API}/experiments/search")
def search_experiments(body: SearchExperiments, caller: Reader, service: Service) -> Response:
    if body.filter or body.order_by:
        raise InvalidInput(
            "experiments are listed by name; filter and order_by are not supported here "
            "(search runs with a filter instead)"
        )
    lifecycle = VIEW_TYPES[view_type(body.view_type)]
    size = max_results(body.max_results, _MLFLOW_SEARCH_DEFAULT)
    page = service.list_experiments(caller.scope, lifecycle, size, body.page_token)
    found = [experiment_json(e) for e in page.items]
    return page_answer("experiments", found, page.next_page_token)


@router.post(f"{API}/experiments/update")
def rename_experiment(
    body: UpdateExperiment, request: Request, caller: Writer, service: Service
) -> Response:
    service.rename_experiment(caller.scope, body.experiment_id, body.new_name)
    audit(request, caller, AuditAction.UPDATE, "experiment", body.experiment_id)
    return answer({})


@router.post(f"{API}/experiments/delete")
def delete_experiment(
    body: ExperimentId, request: Request, caller: Writer, service: Service
) -> Response:
    service.delete_experiment(caller.scope, body.experiment_id)
    audit(request, caller, AuditAction.DELETE, "experiment", body.experiment_id)
    return answer({})


@router.post(f"{API}/experiments/restore")
def restore_experiment(
    body: ExperimentId, request: Request, caller: Writer, service: Service
) -> Response:
    service.restore_experiment(caller.scope, body.experiment_id)
    audit(request, caller, AuditAction.UPDATE, "experiment", body.experiment_id, {"restored": True})
    return answer({})


# -- runs ------------------------------------------------------------------------------------


class CreateRun(Body):
    experiment_id: Text
    user_id: Text | None = None
    start_time: Int64 | None = None
    tags: list[KeyValue] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    run_name: Text | None = None


class RunRef(Body):
    run_id: Text | None = None
    run_uuid: Text | None = None


class UpdateRun(RunRef):
    status: Text | None = None
    end_time: Int64 | None = None
    run_name: Text | None = None


class LogBatch(RunRef):
    metrics: list[MetricIn] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    params: list[KeyValue] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    tags: list[KeyValue] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)


class LogMetric(RunRef, MetricIn):
    pass


class LogParam(RunRef, KeyValue):
    pass


class DeleteTag(RunRef):
    key: Text


class SearchRuns(Body):
    experiment_ids: list[Text] = Field(min_length=1, max_length=MAX_EXPERIMENTS)
    filter: Text | None = None
    run_view_type: ViewType = None
    max_results: MaxResults
    order_by: list[Text] = Field(default_factory=list, max_length=MAX_SEARCH_TERMS)
    page_token: Text | None = None


@router.post(f"{API}/runs/create")
def create_run(body: CreateRun, request: Request, caller: Writer, service: Service) -> Response:
    tags = as_dict(body.tags)
    # MLflow keeps the name, user and parent as tags; gnomon as the run's own fields, and
    # its answers show them as those tags again.
    name = body.run_name or tags.pop("mlflow.runName", None) or None
    tags.pop("mlflow.runName", None)
    tags.pop("mlflow.user", None)
    parent = tags.pop(PARENT_TAG, None) or None
    user = (body.user_id or None) if request.app.state.no_auth else caller.principal.name
    run = service.create_run(
        caller.scope,
        body.experiment_id,
        name,
        parent_run_id=parent,
        tags=tags,
        user=user,
        start_time=body.start_time or None,
    )
    audit(request, caller, AuditAction.CREATE, "run", run.id, {"experiment_id": run.experiment_id})
    return answer({"run": run_json(run)})


@router.get(f"{API}/runs/get")
def get_run(
    caller: Reader, service: Service, run_id: Text | None = None, run_uuid: Text | None = None
) -> Response:
    run = service.get_run(caller.scope, run_id_of(run_id, run_uuid))
    return answer({"run": run_json(run)})


@router.post(f"{API}/runs/update")
def update_run(body: UpdateRun, request: Request, caller: Writer, service: Service) -> Response:
    run_id = run_id_of(body.run_id, body.run_uuid)
    status = None
    if body.status is not None:
        status = STATUSES.get(body.status)
        if status is None:
            raise InvalidInput(
                f"run status {body.status!r} is not one of {', '.join(STATUSES)} "
                "(gnomon has no SCHEDULED runs)"
            )
    run = service.update_run(
        caller.scope, run_id, body.run_name, status=status, end_time=body.end_time
    )
    audit(request, caller, AuditAction.UPDATE, "run", run.id, {"status": run.status.value})
    return answer({"run_info": run_info_json(run)})


@router.post(f"{API}/runs/delete")
def delete_run(body: RunRef, request: Request, caller: Writer, service: Service) -> Response:
    run = service.delete_run(caller.scope, run_id_of(body.run_id, body.run_uuid))
    audit(request, caller, AuditAction.DELETE, "run", run.id)
    return answer({})


@router.post(f"{API}/runs/restore")
def restore_run(body: RunRef, request: Request, caller: Writer, service: Service) -> Response:
    run = service.restore_run(caller.scope, run_id_of(body.run_id, body.run_uuid))
    audit(request, caller, AuditAction.UPDATE, "run", run.id, {"restored": True})
    return answer({})


@router.post(f"{API}/runs/log-batch")
def log_batch(body: LogBatch, caller: Writer, service: Service) -> Response:
    tags = as_dict(body.tags)
    _check_no_parent(tags)
    name = tags.pop("mlflow.runName", None)
    run_id = run_id_of(body.run_id, body.run_uuid)
    service.log_batch(caller.scope, run_id, metrics_of(body.metrics), as_dict(body.params), tags)
    if name:  # MLflow renames a run by setting this tag
        service.update_run(caller.scope, run_id, name)
    return answer({})


@router.post(f"{API}/runs/log-metric")
def log_metric(body: LogMetric, caller: Writer, service: Service) -> Response:
    metric = Metric(body.key, body.value, body.step, body.timestamp)
    service.log_batch(caller.scope, run_id_of(body.run_id, body.run_uuid), [metric])
    return answer({})


@router.post(f"{API}/runs/log-parameter")
def log_param(body: LogParam, caller: Writer, service: Service) -> Response:
    params = {body.key: body.value}
    service.log_batch(caller.scope, run_id_of(body.run_id, body.run_uuid), params=params)
    return answer({})


@router.post(f"{API}/runs/set-tag")
def set_tag(body: LogParam, caller: Writer, service: Service) -> Response:
    run_id = run_id_of(body.run_id, body.run_uuid)
    _check_no_parent({body.key: body.value})
    if body.key == "mlflow.runName":
        service.update_run(caller.scope, run_id, body.value)
    else:
        service.log_batch(caller.scope, run_id, tags={body.key: body.value})
    return answer({})


@router.post(f"{API}/runs/search")
def search_runs(body: SearchRuns, caller: Reader, service: Service) -> Response:
    view = view_type(body.run_view_type)
    query = build_query(
        body.experiment_ids,
        body.filter or None,
        body.order_by or None,
        max_results(body.max_results, _MLFLOW_SEARCH_DEFAULT),
        body.page_token,
        include_deleted=view != "ACTIVE_ONLY",
    )
    page = service.search_query(caller.scope, query)
    runs = page.items
    if view == "DELETED_ONLY":  # a page may come back short: the token still goes on
        runs = [run for run in runs if run.lifecycle is Lifecycle.DELETED]
    return page_answer("runs", [run_json(run) for run in runs], page.next_page_token)


@router.get(f"{API}/metrics/get-history")
def get_metric_history(
    metric_key: Text,
    caller: Reader,
    service: Service,
    run_id: Text | None = None,
    run_uuid: Text | None = None,
) -> Response:
    history = service.get_metric_history(caller.scope, run_id_of(run_id, run_uuid), metric_key)
    return answer({"metrics": [metric_json(m) for m in history]})


def _check_no_parent(tags: dict[str, str]) -> None:
    if PARENT_TAG in tags:
        raise InvalidInput(
            f"{PARENT_TAG} is the run's parent, set when the run is created; it cannot change"
        )
