"""Deployments: the list, and one deployment's routes with their model versions, its recent
traffic (rate, latency, errors, validation failures, the newest predictions) and its routing
history; editors promote an arm or roll back from the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gnomon._types import Scope, now_ms
from gnomon.artifacts import ArtifactStore
from gnomon.auth.entities import AuditAction
from gnomon.deployments.entities import Deployment
from gnomon.deployments.service import DeploymentService
from gnomon.errors import Conflict, InvalidInput, NotFound
from gnomon.predictions.storage import predictions_store
from gnomon.server.access import Caller
from gnomon.server.audit import audit
from gnomon.tracking.validation import NAME_LENGTH
from gnomon.ui.common import Looker, OptionalText, matching, service
from gnomon.ui.deployment_traffic import FAILURES_SHOWN, RECENT_SHOWN, WINDOW_HOURS, read_traffic
from gnomon.ui.forms import editor_form
from gnomon.ui.render import HEADERS, PageRoute, href, page
from gnomon.ui.session import Viewer

router = APIRouter(route_class=PageRoute)

DEPLOYMENTS_LISTED = 1000
HISTORY_SHOWN = 100  # the newest revisions; older ones are counted
NOTE_LENGTH = 1000

DeploymentName = Annotated[str, Path(min_length=1, max_length=NAME_LENGTH)]
Hours = Annotated[int, Query(ge=1, le=max(WINDOW_HOURS))]


@router.get("/deployments")
def deployments_page(request: Request, viewer: Looker, q: OptionalText = None) -> HTMLResponse:
    """The workspace's deployments by name; ``q`` narrows by part of the name."""
    found = matching(service(request, DeploymentService).list(viewer.scope), q)
    return page(
        request,
        "deployments.html",
        viewer,
        deployments=found[:DEPLOYMENTS_LISTED],
        total=len(found),
        q=q or "",
    )


@router.get("/deployments/{name}")
def deployment_page(
    request: Request, viewer: Looker, name: DeploymentName, hours: Hours = 6
) -> HTMLResponse:
    """One deployment: its arms, the traffic of the last ``hours`` (1-168) and its history."""
    deployments = service(request, DeploymentService)
    deployment = deployments.get(viewer.scope, name)
    events = deployments.history(viewer.scope, deployment.name)
    traffic = read_traffic(_serving(request, viewer), deployment.name, hours, now_ms())
    return page(
        request,
        "deployment.html",
        viewer,
        deployment=deployment,
        arms=_arms(deployments, viewer, deployment),
        traffic=traffic,
        hours=hours,
        choices=sorted({*WINDOW_HOURS, hours}),
        history=events[::-1][:HISTORY_SHOWN],
        history_total=len(events),
        recent_max=RECENT_SHOWN,
        failures_max=FAILURES_SHOWN,
    )


@router.post("/deployments/{name}/promote")
async def promote(request: Request, name: DeploymentName) -> Response:
    """Make an arm the primary (form fields ``model``: the arm, else the candidate;
    ``revision``: the one the page showed; ``note``; ``csrf``); editors only."""

    def act(deployments: DeploymentService, scope: Scope, fields: dict[str, str]) -> Deployment:
        model = fields.get("model", "").strip() or None
        return deployments.promote(scope, name, model, _note(fields))

    return await _change(request, name, act, AuditAction.DEPLOYMENT_PROMOTE)


@router.post("/deployments/{name}/rollback")
async def rollback(request: Request, name: DeploymentName) -> Response:
    """Return to the previous revision's routing (fields ``revision``, ``note``, ``csrf``);
    editors only."""

    def act(deployments: DeploymentService, scope: Scope, fields: dict[str, str]) -> Deployment:
        return deployments.rollback(scope, name, _note(fields))

    return await _change(request, name, act, AuditAction.DEPLOYMENT_ROLLBACK)


Act = Callable[[DeploymentService, Scope, dict[str, str]], Deployment]


async def _change(request: Request, name: str, act: Act, action: AuditAction) -> Response:
    current, fields = await editor_form(request)
    await run_in_threadpool(_apply, request, current, name, fields, act, action)
    target = href(current, f"/deployments/{quote(name, safe='')}")
    return RedirectResponse(target, 303, headers=HEADERS)


def _apply(
    request: Request,
    current: Viewer,
    name: str,
    fields: dict[str, str],
    act: Act,
    action: AuditAction,
) -> None:
    """Act on the revision the page showed: a change made since (by anyone) is a Conflict,
    so a second click of a stale page never undoes someone's rollback."""
    deployments = service(request, DeploymentService)
    expected = _revision(fields.get("revision", ""))
    shown = deployments.get(current.scope, name)
    if shown.revision != expected:
        raise Conflict(
            f"deployment {shown.name!r} changed since the page was loaded (revision "
            f"{shown.revision} now, {expected} shown); reload it and try again"
        )
    changed = act(deployments, current.scope, fields)
    details = {"model": changed.routing.primary.ref, "revision": changed.revision}
    caller = Caller(current.principal, current.scope, current.role)
    audit(request, caller, action, "deployment", changed.name, details)


def _revision(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        raise InvalidInput(f"revision must be a revision number, got {text[:40]!r}")
    return int(text)


def _note(fields: dict[str, str]) -> str:
    note = fields.get("note", "").strip()
    if len(note) > NOTE_LENGTH:
        raise InvalidInput(f"a note is at most {NOTE_LENGTH} characters, got {len(note)}")
    return note


def _arms(deployments: DeploymentService, viewer: Viewer, deployment: Deployment) -> list[Any]:
    """Each arm with the version its selector names now (None: that version is gone)."""
    found = []
    for arm in deployment.routing.arms:
        try:
            version: int | None = deployments.registry.resolve(
                viewer.scope, arm.model, arm.selector
            ).version
        except NotFound:
            version = None
        found.append((arm, version))
    return found


def _serving(request: Request, viewer: Viewer) -> ArtifactStore:
    """The viewer's workspace's prediction records, where the REST API reads them."""
    settings = request.app.state.settings
    return predictions_store(
        settings.artifact_root,
        viewer.scope.workspace,
        settings.s3_endpoint_url,
        workspace_name=viewer.workspace,
    )
