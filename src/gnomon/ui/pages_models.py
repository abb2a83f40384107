"""Registered models: the list, one model's versions (contract, source run, training data,
metrics) and its alias history; editors point an alias at a version from the page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gnomon.auth.entities import AuditAction
from gnomon.errors import InvalidInput
from gnomon.registry.service import RegistryService
from gnomon.server.access import Caller
from gnomon.server.audit import audit
from gnomon.tracking.validation import NAME_LENGTH
from gnomon.ui.common import Looker, OptionalText, PageToken, service
from gnomon.ui.forms import editor_form
from gnomon.ui.model_details import MAX_CONTRACT_COLUMNS, version_detail
from gnomon.ui.render import HEADERS, PageRoute, href, page
from gnomon.ui.session import Viewer

router = APIRouter(route_class=PageRoute)

MODELS_PER_PAGE = 100
VERSIONS_PER_PAGE = 20
ALIAS_EVENTS_SHOWN = 200  # the newest; older moves are counted

ModelName = Annotated[str, Path(min_length=1, max_length=NAME_LENGTH)]
VersionNumber = Annotated[int | None, Query(ge=1, lt=2**31)]


@router.get("/models")
def models(
    request: Request, viewer: Looker, q: OptionalText = None, page_token: PageToken = None
) -> HTMLResponse:
    """Registered models by name, 100 a page; ``q`` narrows by part of the name."""
    found = service(request, RegistryService).search_models(
        viewer.scope,
        f"%{q}%" if q else None,
        max_results=MODELS_PER_PAGE,
        page_token=page_token or None,
    )
    return page(
        request,
        "models.html",
        viewer,
        models=list(found),
        q=q or "",
        next_page=found.next_page_token,
    )


@router.get("/models/{name}")
def model_page(
    request: Request,
    viewer: Looker,
    name: ModelName,
    version: VersionNumber = None,
    page_token: PageToken = None,
) -> HTMLResponse:
    """One model: its versions (20 a page), the chosen version in detail (``?version=N``,
    else the latest), its aliases and their history; the alias form for editors."""
    registry = service(request, RegistryService)
    model = registry.get_model(viewer.scope, name)
    versions = registry.search_versions(
        viewer.scope, model.name, max_results=VERSIONS_PER_PAGE, page_token=page_token or None
    )
    chosen = version or model.latest_version
    detail = None
    if chosen is not None:
        found = registry.get_version(viewer.scope, model.name, chosen)  # NotFound: a 404 page
        detail = version_detail(request, viewer, found)
    events = registry.list_alias_events(viewer.scope, model.name)
    return page(
        request,
        "model.html",
        viewer,
        model=model,
        versions=list(versions),
        next_page=versions.next_page_token,
        current_page=page_token or "",
        detail=detail,
        history=events[::-1][:ALIAS_EVENTS_SHOWN],
        history_total=len(events),
        max_columns=MAX_CONTRACT_COLUMNS,
    )


@router.post("/models/{name}/aliases")
async def set_alias(request: Request, name: ModelName) -> Response:
    """Point an alias at a version (form fields ``alias``, ``version``, ``csrf``); editors
    only. A bad alias or version number is a 400 page, an unknown version a 404 page."""
    current, fields = await editor_form(request)
    alias = fields.get("alias", "").strip()
    number = _version_number(fields.get("version", "").strip())
    await run_in_threadpool(_move_alias, request, current, name, alias, number)
    target = href(current, f"/models/{quote(name, safe='')}", version=number)
    return RedirectResponse(target, 303, headers=HEADERS)


def _version_number(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        raise InvalidInput(f"version must be a version number, got {text[:40]!r}")
    return int(text)  # the service refuses 0 and numbers past its range


def _move_alias(request: Request, current: Viewer, name: str, alias: str, number: int) -> None:
    event = service(request, RegistryService).set_alias(current.scope, name, alias, number)
    caller = Caller(current.principal, current.scope, current.role)
    details = {"version": event.version, "previous": event.previous}
    audit(request, caller, AuditAction.UPDATE, "model_alias", f"{name}@{alias}", details)
