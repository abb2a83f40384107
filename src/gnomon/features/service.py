"""FeatureRegistry: applying feature definitions (versioned, validated as a whole, refused when
they break what uses them), and reading them back, as records or as a ``Catalog``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from gnomon._types import Scope
from gnomon.errors import Conflict, InvalidInput, NotFound
from gnomon.features.breaking import breaking
from gnomon.features.entities import (
    KINDS,
    LABELS,
    AppliedDefinition,
    ApplyPlan,
    DefinitionVersion,
    Kind,
)
from gnomon.features.plan import MAX_PROBLEMS, Planned, plan_apply, shown
from gnomon.features.sources import DatasetFiles
from gnomon.features.specs import Catalog, Definition, catalog_of
from gnomon.features.sql import SqlFeatureStore
from gnomon.features.tables import NAME_LENGTH

if TYPE_CHECKING:
    from gnomon.data.service import DatasetService

MAX_VERSIONS_SHOWN = 1000


class FeatureRegistry:
    """The feature definitions of each workspace. ``datasets`` (the data capability) lets
    views read dataset versions, checked out once under ``cache``."""

    def __init__(
        self, store: SqlFeatureStore, datasets: DatasetService | None, cache: Path
    ) -> None:
        self.store = store
        self.datasets = datasets
        self.cache = cache

    def apply(
        self,
        scope: Scope,
        definitions: Sequence[Definition],
        *,
        force: bool = False,
        prune: bool = False,
        read_sources: bool = True,
    ) -> ApplyPlan:
        """Apply ``definitions``: a new version of each that is new or changed, in one
        transaction; unchanged ones keep theirs. With ``prune``, applied definitions that
        ``definitions`` leave out are removed (their versions are kept). Without
        ``read_sources`` no source is read: the server's way, whose client checked them where
        the data is (a server never reads the files or databases a client names).

        Raises:
            InvalidInput: a definition is bad, a reference does not resolve, or a source is
                missing, lacks a declared column or holds it with another type (all named).
            Conflict: the apply breaks what uses the definitions (each problem listed) and
                ``force`` is not set; or another apply ran meanwhile.
        """
        planned = self._plan(scope, definitions, prune)
        problems = breaking(planned.before, planned.after)
        if problems and not force:
            raise Conflict(
                f"refused: {len(problems)} breaking change{'s' if len(problems) > 1 else ''} "
                f"(--force or force=True applies them anyway): {shown(problems)}",
                {"breaking": problems[:MAX_PROBLEMS]},
            )
        if read_sources:
            from gnomon.features.source_checks import check_sources  # duckdb, when applying

            check_sources(planned.after, planned.to_check, self.dataset_files(scope))
        if planned.writes.versions or planned.writes.removals:
            self.store.write(scope, planned.writes)
        return replace(planned.plan, breaking=tuple(problems), applied=True)

    def diff(
        self, scope: Scope, definitions: Sequence[Definition], *, prune: bool = False
    ) -> ApplyPlan:
        """What ``apply`` would change and what it would break; writes and reads no source.

        Raises:
            InvalidInput: as ``apply``, but for the sources, which it does not read.
        """
        planned = self._plan(scope, definitions, prune)
        return replace(planned.plan, breaking=tuple(breaking(planned.before, planned.after)))

    def get(self, scope: Scope, kind: str, name: str) -> AppliedDefinition:
        """The current version of a definition.

        Raises:
            NotFound: no live ``kind`` called ``name`` in the workspace.
        """
        checked = _kind(kind)
        for definition in self.store.named(scope, _name(name)):
            if definition.kind == checked:
                return definition
        raise NotFound(f"{LABELS[checked]} {name!r} not found")

    def find(self, scope: Scope, name: str) -> list[AppliedDefinition]:
        """The live definitions called ``name``, of every kind (usually one).

        Raises:
            NotFound: none is called ``name``.
        """
        found = self.store.named(scope, name) if 0 < len(name) <= NAME_LENGTH else []
        if not found:
            raise NotFound(f"no feature definition {name[:NAME_LENGTH]!r}")
        return found

    def versions(
        self, scope: Scope, kind: str, name: str, limit: int = 100
    ) -> list[DefinitionVersion]:
        """The newest ``limit`` versions of a definition, newest first.

        Raises:
            NotFound: it never had a version.
            InvalidInput: ``limit`` is not 1..1000.
        """
        if not 1 <= limit <= MAX_VERSIONS_SHOWN:
            raise InvalidInput(f"limit must be 1..{MAX_VERSIONS_SHOWN}, not {limit}")
        checked = _kind(kind)
        found = self.store.versions(scope, checked, _name(name), limit)
        if not found:
            raise NotFound(f"{LABELS[checked]} {name!r} not found")
        return found

    def catalog(self, scope: Scope) -> Catalog:
        """Every live definition, as the definitions they are."""
        return catalog_of({(d.kind, d.name): d.spec for d in self.store.current(scope)})

    def dataset_files(self, scope: Scope) -> DatasetFiles | None:
        """Dataset ref → that version's local files (checked out once), for DuckDB to read."""
        if self.datasets is None:
            return None
        from gnomon.features.dataset_files import dataset_files

        datasets = self.datasets
        return dataset_files(
            lambda ref: datasets.version(scope, ref),
            lambda ref, folder: datasets.checkout(scope, ref, folder),
            self.cache / scope.workspace,
        )

    def list(self, scope: Scope, kind: str | None = None) -> list[AppliedDefinition]:
        """The live definitions (of ``kind``), by kind then name."""
        return self.store.current(scope, None if kind is None else _kind(kind))

    def _plan(self, scope: Scope, definitions: Sequence[Definition], prune: bool) -> Planned:
        return plan_apply(
            self.store.current(scope), self.store.last_versions(scope), definitions, prune
        )


def _kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}; got {kind[:20]!r}")
    return kind


def _name(name: str) -> str:
    if not name or len(name) > NAME_LENGTH:
        raise InvalidInput(f"a definition name has 1 to {NAME_LENGTH} characters")
    return name
