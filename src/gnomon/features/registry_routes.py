"""The feature registry's REST routes, for clients that are not beside the metadata database:
``gnomon features apply|diff|list|show`` through a server.

The client loads the repo's definitions (its own code, in its own process) and checks their
sources where the data is; the server receives specs only, and never reads a source a client
names (a file path or a database on the server's side would be the client's to choose).
Viewers list, show and diff; editors apply.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from gnomon.auth.entities import AuditAction
from gnomon.features.registry_schemas import (
    ApplyDefinitions,
    DefinitionOut,
    PlanOut,
    VersionOut,
)
from gnomon.features.service import MAX_VERSIONS_SHOWN, FeatureRegistry
from gnomon.features.specs import Definition, from_spec
from gnomon.features.tables import NAME_LENGTH
from gnomon.server.access import Access, Caller, require
from gnomon.server.audit import audit
from gnomon.server.respond import wire
from gnomon.wire import Text

router = APIRouter(tags=["features"])

Reader = Annotated[Caller, Depends(require(Access.VIEWER))]
Writer = Annotated[Caller, Depends(require(Access.EDITOR))]
Name = Annotated[Text, Query(max_length=NAME_LENGTH)]


async def _registry(request: Request) -> FeatureRegistry:  # async: no threadpool hop
    found: FeatureRegistry = request.app.state.services.get(FeatureRegistry)
    return found


Registry = Annotated[FeatureRegistry, Depends(_registry)]


@router.post("/features/apply", response_model=PlanOut)
def apply_definitions(
    body: ApplyDefinitions, request: Request, caller: Writer, registry: Registry
) -> Response:
    """A new version of each new or changed definition, in one transaction; breaking changes
    are a 409 listing them unless ``force``."""
    plan = registry.apply(
        caller.scope, _definitions(body), force=body.force, prune=body.prune, read_sources=False
    )
    if plan.changed:
        changed = [f"{c.kind}:{c.name}" for c in plan.changes if c.action != "unchanged"]
        audit(
            request, caller, AuditAction.UPDATE, "feature definitions", f"{len(changed)} changed",
            {"changed": changed[:100], "forced": bool(plan.breaking)},
        )  # fmt: skip
    return wire(PlanOut, PlanOut.of(plan))


@router.post("/features/diff", response_model=PlanOut)
def diff_definitions(body: ApplyDefinitions, caller: Reader, registry: Registry) -> Response:
    """What applying the definitions would change and break; changes nothing."""
    plan = registry.diff(caller.scope, _definitions(body), prune=body.prune)
    return wire(PlanOut, PlanOut.of(plan))


@router.get("/features/definitions", response_model=list[DefinitionOut])
def list_definitions(
    caller: Reader,
    registry: Registry,
    kind: Annotated[Text | None, Query(max_length=16)] = None,
    name: Name | None = None,
) -> Response:
    """The live definitions (of ``kind``); with ``name``, those called so (a 404 if none)."""
    if name is None:
        found = registry.list(caller.scope, kind)
    elif kind is None:
        found = registry.find(caller.scope, name)
    else:
        found = [registry.get(caller.scope, kind, name)]
    return wire(list[DefinitionOut], [DefinitionOut.of(d) for d in found])


@router.get("/features/definitions/{kind}/{name}/versions", response_model=list[VersionOut])
def definition_versions(
    kind: Text,
    name: Text,
    caller: Reader,
    registry: Registry,
    limit: Annotated[int, Query(ge=1, le=MAX_VERSIONS_SHOWN)] = 100,
) -> Response:
    found = registry.versions(caller.scope, kind[:16], name, limit)
    return wire(list[VersionOut], [VersionOut.of(v) for v in found])


def _definitions(body: ApplyDefinitions) -> list[Definition]:
    return [from_spec(d.kind, d.spec) for d in body.definitions]
