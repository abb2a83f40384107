"""Deployment REST routes under /api/v1: thin handlers over DeploymentService.

Every change is audited under the deployment's name, with the revision it produced.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from gnomon.artifacts import ArtifactStore
from gnomon.auth.entities import AuditAction
from gnomon.config import Settings
from gnomon.deployments.entities import Deployment
from gnomon.deployments.schemas import (
    CreateDeployment,
    DeploymentEventOut,
    DeploymentOut,
    LogOutcomes,
    OutcomesLogged,
    Promote,
    ResolvedOut,
    Rollback,
    SetRoute,
    UpdateDeployment,
)
from gnomon.deployments.service import DeploymentService
from gnomon.predictions.parquet import PARQUET_TYPE, to_parquet
from gnomon.predictions.reading import MAX_RECORDS
from gnomon.predictions.storage import predictions_store
from gnomon.server.access import Access, Caller, require, workspace_name
from gnomon.server.audit import audit
from gnomon.server.respond import wire
from gnomon.wire import Text

router = APIRouter(tags=["deployments"])

Reader = Annotated[Caller, Depends(require(Access.VIEWER))]
Writer = Annotated[Caller, Depends(require(Access.EDITOR))]


async def _deployments(request: Request) -> DeploymentService:  # async: no threadpool hop
    service: DeploymentService = request.app.state.services.deployments
    return service


Deployments = Annotated[DeploymentService, Depends(_deployments)]


@router.get("/deployments", response_model=list[DeploymentOut])
def list_deployments(caller: Reader, deployments: Deployments) -> Response:
    return wire(list[DeploymentOut], deployments.list(caller.scope))


@router.post("/deployments", status_code=201, response_model=DeploymentOut)
def create_deployment(
    body: CreateDeployment, request: Request, caller: Writer, deployments: Deployments
) -> Response:
    """A deployment sending all traffic to ``model`` (``churn@production``, ``churn/7``)."""
    config = body.config.entity() if body.config is not None else None
    created = deployments.create(
        caller.scope, body.name, body.model, description=body.description, config=config
    )
    _audit(request, caller, AuditAction.CREATE, created, {"model": body.model})
    return wire(DeploymentOut, created, 201)


@router.get("/deployments/{name}", response_model=DeploymentOut)
def get_deployment(name: Text, caller: Reader, deployments: Deployments) -> Response:
    return wire(DeploymentOut, deployments.get(caller.scope, name))


@router.get("/deployments/{name}/resolved", response_model=ResolvedOut)
def resolve_deployment(name: Text, caller: Reader, deployments: Deployments) -> Response:
    """The deployment and the version each arm's selector names now (aliases followed)."""
    deployment, arms = deployments.resolve(caller.scope, name)
    return wire(ResolvedOut, {"deployment": deployment, "arms": arms})


@router.post("/deployments/{name}/routes", response_model=DeploymentOut)
def set_route(
    name: Text, body: SetRoute, request: Request, caller: Writer, deployments: Deployments
) -> Response:
    """Route to a model as a canary, an A/B arm, a shadow, or (none given) the primary."""
    changed = deployments.set_route(
        caller.scope,
        name,
        body.model,
        canary=body.canary,
        ab_key=body.ab_key,
        ab_weight=body.ab_weight,
        shadow=body.shadow,
        note=body.note,
    )
    details = body.model_dump(exclude_defaults=True)
    _audit(request, caller, AuditAction.DEPLOYMENT_SET_ROUTE, changed, details)
    return wire(DeploymentOut, changed)


@router.delete("/deployments/{name}/routes", response_model=DeploymentOut)
def remove_route(
    name: Text,
    model: Annotated[Text, Query(description="The arm to remove: churn/8, churn@staging.")],
    request: Request,
    caller: Writer,
    deployments: Deployments,
    note: Text = "",
) -> Response:
    changed = deployments.remove_route(caller.scope, name, model, note)
    _audit(request, caller, AuditAction.DEPLOYMENT_REMOVE_ROUTE, changed, {"model": model})
    return wire(DeploymentOut, changed)


@router.post("/deployments/{name}/promote", response_model=DeploymentOut)
def promote(
    name: Text,
    request: Request,
    caller: Writer,
    deployments: Deployments,
    body: Promote | None = None,
) -> Response:
    """Make the candidate (or ``model``) the primary, with all live traffic."""
    body = body or Promote()
    changed = deployments.promote(caller.scope, name, body.model, body.note)
    details = {"model": changed.routing.primary.ref}
    _audit(request, caller, AuditAction.DEPLOYMENT_PROMOTE, changed, details)
    return wire(DeploymentOut, changed)


@router.post("/deployments/{name}/rollback", response_model=DeploymentOut)
def rollback(
    name: Text,
    request: Request,
    caller: Writer,
    deployments: Deployments,
    body: Rollback | None = None,
) -> Response:
    """Return to the routing and config of the revision before the current one."""
    changed = deployments.rollback(caller.scope, name, (body or Rollback()).note)
    _audit(request, caller, AuditAction.DEPLOYMENT_ROLLBACK, changed)
    return wire(DeploymentOut, changed)


@router.patch("/deployments/{name}", response_model=DeploymentOut)
def update_deployment(
    name: Text, body: UpdateDeployment, request: Request, caller: Writer, deployments: Deployments
) -> Response:
    """Change the description or the whole serving config (policy, batching)."""
    changed = deployments.update(
        caller.scope,
        name,
        description=body.description,
        config=body.config.entity() if body.config is not None else None,
        note=body.note,
    )
    _audit(request, caller, AuditAction.UPDATE, changed, body.model_dump(exclude_none=True))
    return wire(DeploymentOut, changed)


@router.get("/deployments/{name}/history", response_model=list[DeploymentEventOut])
def history(name: Text, caller: Reader, deployments: Deployments) -> Response:
    """Every revision, oldest first: who changed what, when, and the routing it left."""
    return wire(list[DeploymentEventOut], deployments.history(caller.scope, name))


@router.post("/deployments/{name}/outcomes", response_model=OutcomesLogged)
def log_outcomes(
    name: Text, body: LogOutcomes, request: Request, caller: Writer, deployments: Deployments
) -> Response:
    """Ground truth for requests the deployment answered, joined to its records by id."""
    pairs = [{"request_id": o.request_id, "value": o.value} for o in body.outcomes]
    accepted = deployments.log_outcomes(caller.scope, _serving(request, caller), name, pairs)
    # The count only: outcome values can be personal data, and the audit log is kept long.
    audit(request, caller, AuditAction.DEPLOYMENT_OUTCOMES, "deployment", name, {"count": accepted})
    return wire(OutcomesLogged, {"accepted": accepted})


@router.get(
    "/deployments/{name}/records",
    response_class=Response,
    responses={200: {"content": {PARQUET_TYPE: {}}, "description": "The records as Parquet."}},
)
def records(
    name: Text,
    request: Request,
    caller: Reader,
    deployments: Deployments,
    limit: Annotated[int, Query(ge=1, le=MAX_RECORDS, description="The newest N records.")] = (
        MAX_RECORDS
    ),
    outcomes: Annotated[bool, Query(description="Join each record's outcome.")] = True,
) -> Response:
    """The deployment's prediction records, oldest first, as Parquet (types survive)."""
    frame = deployments.records(
        caller.scope, _serving(request, caller), name, with_outcomes=outcomes, limit=limit
    )
    return Response(to_parquet(frame), media_type=PARQUET_TYPE)


def _serving(request: Request, caller: Caller) -> ArtifactStore:
    """The predictions store of the caller's workspace (by id, as model servers key it),
    where this server's settings put it (``require`` has already checked the caller's role)."""
    settings: Settings = request.app.state.settings
    workspace_id = caller.scope.workspace
    return predictions_store(
        settings.artifact_root,
        workspace_id,
        settings.s3_endpoint_url,
        workspace_name=workspace_name(request),  # its files from before they were keyed by id
    )


@router.delete("/deployments/{name}", status_code=204)
def delete_deployment(
    name: Text, request: Request, caller: Writer, deployments: Deployments
) -> Response:
    deployments.delete(caller.scope, name)
    audit(request, caller, AuditAction.DELETE, "deployment", name)
    return Response(status_code=204)


def _audit(
    request: Request,
    caller: Caller,
    action: AuditAction,
    deployment: Deployment,
    details: dict[str, Any] | None = None,
) -> None:
    full = {**(details or {}), "revision": deployment.revision}
    audit(request, caller, action, "deployment", deployment.name, full)
