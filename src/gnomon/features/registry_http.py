"""``client.feature_registry`` through a gnomon server (the contract is
:mod:`gnomon.features.registry_api`).

The repo's code ran in this process (``load_definitions``); the server gets the specs. Sources
are checked here, where the data is, before an apply is sent: the server reads none."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gnomon.client.transport import Transport, body, segment
from gnomon.errors import Unavailable
from gnomon.features.entities import AppliedDefinition, ApplyPlan, DefinitionVersion
from gnomon.features.registry_schemas import (
    ApplyDefinitions,
    DefinitionOut,
    PlanOut,
    VersionOut,
)
from gnomon.features.sources import DatasetFiles
from gnomon.features.specs import Catalog, Definition, catalog_of, kind_of, to_spec


class HttpFeatureRegistry:
    def __init__(
        self, transport: Transport, dataset_files: Callable[[], DatasetFiles | None]
    ) -> None:
        self.transport = transport
        self.dataset_files = dataset_files  # for views over dataset versions, when checked

    def apply(
        self, definitions: Sequence[Definition], *, force: bool = False, prune: bool = False
    ) -> ApplyPlan:
        planned = self.diff(definitions, prune=prune)
        if not planned.breaking or force:  # else the server refuses it, listing what breaks
            self._check_sources(definitions, planned)
        return self._send("/features/apply", definitions, force=force, prune=prune)

    def diff(self, definitions: Sequence[Definition], *, prune: bool = False) -> ApplyPlan:
        return self._send("/features/diff", definitions, prune=prune)

    def get(self, kind: str, name: str) -> AppliedDefinition:
        found = self._definitions({"kind": kind, "name": name})
        if len(found) != 1:  # the server answers one, or a 404
            raise Unavailable(f"the server answered {len(found)} definitions for one name")
        return found[0]

    def find(self, name: str) -> list[AppliedDefinition]:
        return self._definitions({"name": name})

    def versions(self, kind: str, name: str, limit: int = 100) -> list[DefinitionVersion]:
        path = f"/features/definitions/{segment(kind)}/{segment(name)}/versions"
        found = self.transport.many("GET", path, VersionOut, params={"limit": limit})
        return [v.entity() for v in found]

    def catalog(self) -> Catalog:
        return catalog_of({(d.kind, d.name): d.spec for d in self.list()})

    def _send(
        self, path: str, definitions: Sequence[Definition], *, force: bool = False, prune: bool
    ) -> ApplyPlan:
        specs = [{"kind": kind_of(d), "spec": to_spec(d)} for d in definitions]
        sent = body(ApplyDefinitions, definitions=specs, force=force, prune=prune)
        content = sent.model_dump_json().encode()
        headers = {"content-type": "application/json"}
        return self.transport.one("POST", path, PlanOut, content=content, headers=headers).entity()

    def _check_sources(self, definitions: Sequence[Definition], planned: ApplyPlan) -> None:
        """The sources of the views the apply creates or changes, read here (their schemas
        only), against the catalog the apply would leave."""
        changed = {c.name for c in planned.changes if c.kind == "view"}
        changed -= {c.name for c in planned.changes if c.action in ("unchanged", "removed")}
        if not changed:
            return
        from gnomon.features.source_checks import check_sources  # duckdb, when applying

        specs = {(d.kind, d.name): d.spec for d in self.list()}
        specs.update({(kind_of(d), d.name): to_spec(d) for d in definitions})  # type: ignore[misc]
        check_sources(catalog_of(specs), sorted(changed), self.dataset_files())

    def _definitions(self, params: dict[str, str]) -> list[AppliedDefinition]:
        found = self.transport.many("GET", "/features/definitions", DefinitionOut, params=params)
        return [d.entity() for d in found]

    # Last in the class: a method named ``list`` shadows the builtin for the annotations.
    def list(self, kind: str | None = None) -> list[AppliedDefinition]:
        return self._definitions({} if kind is None else {"kind": kind})


__all__ = ["HttpFeatureRegistry"]
