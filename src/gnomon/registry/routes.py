"""Model registry REST routes under /api/v1: thin handlers over RegistryService and Registrar.

The server holds the registry's storage: registering a run's model, importing a model folder
and downloading a version all go through it, so clients need no storage credentials. The
routes that move files (import, contract, download, logged models) are in
``storage_routes.py``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from gnomon.auth.entities import AuditAction
from gnomon.registry.entities import ModelVersion
from gnomon.registry.registration import Registrar
from gnomon.registry.schemas import (
    AliasEventOut,
    CreateModel,
    ModelVersionOut,
    RegisteredModelOut,
    RegisterVersion,
    SetAlias,
    SetTag,
    UpdateModel,
    UpdateVersion,
    VersionSelector,
)
from gnomon.registry.service import DEFAULT_MAX_RESULTS, RegistryService
from gnomon.server.access import Access, Caller, require
from gnomon.server.audit import audit
from gnomon.server.respond import wire, wire_page
from gnomon.wire import BrowsePageSize, PageOut, Text

router = APIRouter(tags=["registry"])

Reader = Annotated[Caller, Depends(require(Access.VIEWER))]
Writer = Annotated[Caller, Depends(require(Access.EDITOR))]


async def _registry(request: Request) -> RegistryService:  # async: no threadpool hop
    service: RegistryService = request.app.state.services.registry
    return service


async def _registrar(request: Request) -> Registrar:
    registrar: Registrar = request.app.state.services.registrar
    return registrar


Registry = Annotated[RegistryService, Depends(_registry)]
Copier = Annotated[Registrar, Depends(_registrar)]

# -- models ----------------------------------------------------------------------------------


@router.post("/models", status_code=201, response_model=RegisteredModelOut)
def create_model(
    body: CreateModel, request: Request, caller: Writer, registry: Registry
) -> Response:
    model = registry.create_model(caller.scope, body.name, body.description, body.tags)
    audit(request, caller, AuditAction.CREATE, "model", model.name)
    return wire(RegisteredModelOut, model, 201)


@router.get("/models", response_model=PageOut[RegisteredModelOut])
def search_models(
    caller: Reader,
    registry: Registry,
    name_like: Text | None = None,
    tag: Annotated[list[Text] | None, Query(description="key=value, repeatable")] = None,
    max_results: BrowsePageSize = DEFAULT_MAX_RESULTS,
    page_token: Text | None = None,
) -> Response:
    tags = dict(t.partition("=")[::2] for t in tag or [])
    page = registry.search_models(caller.scope, name_like, tags, max_results, page_token)
    return wire_page(RegisteredModelOut, page)


@router.get("/models/{name}", response_model=RegisteredModelOut)
def get_model(name: Text, caller: Reader, registry: Registry) -> Response:
    return wire(RegisteredModelOut, registry.get_model(caller.scope, name))


@router.patch("/models/{name}", response_model=RegisteredModelOut)
def update_model(
    name: Text, body: UpdateModel, request: Request, caller: Writer, registry: Registry
) -> Response:
    model = registry.update_model(caller.scope, name, body.description)
    audit(request, caller, AuditAction.UPDATE, "model", name, {"description": body.description})
    return wire(RegisteredModelOut, model)


@router.delete("/models/{name}", status_code=204)
def delete_model(name: Text, request: Request, caller: Writer, registry: Registry) -> Response:
    registry.delete_model(caller.scope, name)
    audit(request, caller, AuditAction.DELETE, "model", name)
    return Response(status_code=204)


@router.put("/models/{name}/tags/{key:path}", status_code=204)
def set_model_tag(
    name: Text, key: Text, body: SetTag, request: Request, caller: Writer, registry: Registry
) -> Response:
    registry.set_model_tag(caller.scope, name, key, body.value)
    audit(request, caller, AuditAction.UPDATE, "model", name, {"tag": key})
    return Response(status_code=204)


@router.delete("/models/{name}/tags/{key:path}", status_code=204)
def delete_model_tag(
    name: Text, key: Text, request: Request, caller: Writer, registry: Registry
) -> Response:
    registry.delete_model_tag(caller.scope, name, key)
    audit(request, caller, AuditAction.UPDATE, "model", name, {"tag_deleted": key})
    return Response(status_code=204)


# -- versions --------------------------------------------------------------------------------


@router.post("/models/{name}/versions", status_code=201, response_model=ModelVersionOut)
def register_version(
    name: Text, body: RegisterVersion, request: Request, caller: Writer, registrar: Copier
) -> Response:
    """Register a run's logged model (``runs:/<run id>/<path>``) as the next version."""
    version = registrar.register(
        caller.scope,
        body.source,
        name,
        description=body.description,
        tags=body.tags,
        alias=body.alias,
    )
    audit_version(request, caller, AuditAction.CREATE, version, {"source": version.source})
    return wire(ModelVersionOut, version, 201)


@router.get("/model-versions", response_model=PageOut[ModelVersionOut])
def search_versions(
    caller: Reader,
    registry: Registry,
    name: Text | None = None,
    run_id: Text | None = None,
    status: Text | None = None,
    max_results: BrowsePageSize = DEFAULT_MAX_RESULTS,
    page_token: Text | None = None,
) -> Response:
    page = registry.search_versions(
        caller.scope, name, run_id, status, None, max_results, page_token
    )
    return wire_page(ModelVersionOut, page)


@router.get("/models/{name}/versions", response_model=PageOut[ModelVersionOut])
def list_versions(
    name: Text,
    caller: Reader,
    registry: Registry,
    run_id: Text | None = None,
    status: Text | None = None,
    max_results: BrowsePageSize = DEFAULT_MAX_RESULTS,
    page_token: Text | None = None,
) -> Response:
    return search_versions(caller, registry, name, run_id, status, max_results, page_token)


@router.get("/models/{name}/versions/{version}", response_model=ModelVersionOut)
def get_version(
    name: Text, version: VersionSelector, caller: Reader, registry: Registry
) -> Response:
    """A version by number, alias, or ``latest`` (the highest READY version)."""
    return wire(ModelVersionOut, registry.resolve(caller.scope, name, selector(version)))


@router.patch("/models/{name}/versions/{version}", response_model=ModelVersionOut)
def update_version(
    name: Text,
    version: VersionSelector,
    body: UpdateVersion,
    request: Request,
    caller: Writer,
    registry: Registry,
) -> Response:
    updated = registry.update_version(
        caller.scope, name, _number(version), body.description, body.status
    )
    audit_version(request, caller, AuditAction.UPDATE, updated, body.model_dump(exclude_none=True))
    return wire(ModelVersionOut, updated)


@router.delete("/models/{name}/versions/{version}", status_code=204)
def delete_version(
    name: Text, version: VersionSelector, request: Request, caller: Writer, registry: Registry
) -> Response:
    registry.delete_version(caller.scope, name, _number(version))
    audit(request, caller, AuditAction.DELETE, "model_version", f"{name}/{version}")
    return Response(status_code=204)


@router.put("/models/{name}/versions/{version}/tags/{key:path}", status_code=204)
def set_version_tag(
    name: Text,
    version: VersionSelector,
    key: Text,
    body: SetTag,
    request: Request,
    caller: Writer,
    registry: Registry,
) -> Response:
    registry.set_version_tag(caller.scope, name, _number(version), key, body.value)
    audit(request, caller, AuditAction.UPDATE, "model_version", f"{name}/{version}", {"tag": key})
    return Response(status_code=204)


# -- aliases ---------------------------------------------------------------------------------


@router.put("/models/{name}/aliases/{alias}", response_model=AliasEventOut)
def set_alias(
    name: Text, alias: Text, body: SetAlias, request: Request, caller: Writer, registry: Registry
) -> Response:
    """Point ``alias`` at a version (atomically; recorded with who and when)."""
    event = registry.set_alias(caller.scope, name, alias, body.version)
    details = {"version": event.version, "previous": event.previous}
    audit(request, caller, AuditAction.UPDATE, "model_alias", f"{name}@{alias}", details)
    return wire(AliasEventOut, event)


@router.delete("/models/{name}/aliases/{alias}", response_model=AliasEventOut)
def delete_alias(
    name: Text, alias: Text, request: Request, caller: Writer, registry: Registry
) -> Response:
    event = registry.delete_alias(caller.scope, name, alias)
    details = {"previous": event.previous}
    audit(request, caller, AuditAction.DELETE, "model_alias", f"{name}@{alias}", details)
    return wire(AliasEventOut, event)


@router.get("/models/{name}/aliases/history", response_model=list[AliasEventOut])
def alias_history(
    name: Text, caller: Reader, registry: Registry, alias: Text | None = None
) -> Response:
    """Every move of the model's aliases (or of one alias), oldest first."""
    return wire(list[AliasEventOut], registry.list_alias_events(caller.scope, name, alias))


# -- helpers ---------------------------------------------------------------------------------

_INTEGER = re.compile(r"-?[0-9]+")


def selector(version: str) -> int | str:
    """A path's version selector: a number, or an alias or ``latest`` (the service decides)."""
    return int(version) if _INTEGER.fullmatch(version) else version


def _number(version: str) -> Any:
    """A version number; anything else reaches the service as is, which refuses it with the
    same message an embedded caller gets."""
    return selector(version)


def audit_version(
    request: Request,
    caller: Caller,
    action: AuditAction,
    version: ModelVersion,
    details: dict[str, Any] | None = None,
) -> None:
    object_id = f"{version.model_name}/{version.version}"
    audit(request, caller, action, "model_version", object_id, details)
