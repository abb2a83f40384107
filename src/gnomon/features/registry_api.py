"""``client.feature_registry``: applying and reading feature definitions. ``RegistryClient``
implements it beside the metadata database, ``HttpFeatureRegistry`` through a server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gnomon.features.entities import AppliedDefinition, ApplyPlan, DefinitionVersion
    from gnomon.features.specs import Catalog, Definition


class FeatureRegistryApi(Protocol):
    def apply(
        self, definitions: Sequence[Definition], *, force: bool = False, prune: bool = False
    ) -> ApplyPlan:
        """A new version of each new or changed definition, all or none. Raises
        ``InvalidInput`` for bad definitions or sources (all named), ``Conflict`` for
        breaking changes without ``force`` (each listed)."""
        ...

    def diff(self, definitions: Sequence[Definition], *, prune: bool = False) -> ApplyPlan:
        """What ``apply`` would change and break; changes nothing."""
        ...

    def get(self, kind: str, name: str) -> AppliedDefinition:
        """The current version of a definition; ``NotFound`` when there is none."""
        ...

    def find(self, name: str) -> list[AppliedDefinition]:
        """The live definitions called ``name``, of every kind; ``NotFound`` when none."""
        ...

    def versions(self, kind: str, name: str, limit: int = 100) -> list[DefinitionVersion]:
        """The newest ``limit`` versions of a definition, newest first."""
        ...

    def catalog(self) -> Catalog:
        """Every live definition, as the definitions they are."""
        ...

    # Last: a method named ``list`` shadows the builtin for the annotations after it.
    def list(self, kind: str | None = None) -> list[AppliedDefinition]:
        """The live definitions (of ``kind``), by kind then name."""
        ...
