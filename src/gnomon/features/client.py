"""RegistryClient: ``client.feature_registry`` beside the metadata database, the registry
bound to a client's scope (through a server: ``registry_http.HttpFeatureRegistry``)."""

from __future__ import annotations

from collections.abc import Sequence

from gnomon._types import Scope
from gnomon.features.entities import AppliedDefinition, ApplyPlan, DefinitionVersion
from gnomon.features.service import FeatureRegistry
from gnomon.features.specs import Catalog, Definition


class RegistryClient:
    def __init__(self, service: FeatureRegistry, scope: Scope) -> None:
        self.service = service
        self.scope = scope

    def apply(
        self, definitions: Sequence[Definition], *, force: bool = False, prune: bool = False
    ) -> ApplyPlan:
        return self.service.apply(self.scope, definitions, force=force, prune=prune)

    def diff(self, definitions: Sequence[Definition], *, prune: bool = False) -> ApplyPlan:
        return self.service.diff(self.scope, definitions, prune=prune)

    def get(self, kind: str, name: str) -> AppliedDefinition:
        return self.service.get(self.scope, kind, name)

    def find(self, name: str) -> list[AppliedDefinition]:
        return self.service.find(self.scope, name)

    def versions(self, kind: str, name: str, limit: int = 100) -> list[DefinitionVersion]:
        return self.service.versions(self.scope, kind, name, limit)

    def catalog(self) -> Catalog:
        return self.service.catalog(self.scope)

    def list(self, kind: str | None = None) -> list[AppliedDefinition]:
        return self.service.list(self.scope, kind)


__all__ = ["RegistryClient"]
