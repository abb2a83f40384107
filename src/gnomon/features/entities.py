"""What the feature registry stores and answers: applied definitions (the current version of
each), their versions, and the plan an apply follows (or a diff shows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["entity", "view", "service"]
KINDS: tuple[Kind, ...] = ("entity", "view", "service")
LABELS = {"entity": "entity", "view": "feature view", "service": "feature service"}
Action = Literal["created", "updated", "unchanged", "removed"]


@dataclass(frozen=True, slots=True)
class AppliedDefinition:
    """The current version of one definition in a workspace; ``spec`` is its JSON form
    (``specs.to_spec``), ``digest`` a hash of it."""

    kind: Kind
    name: str
    version: int
    spec: dict[str, Any]
    digest: str
    created_time: int  # when its version 1 was applied
    updated_time: int  # when this version was
    updated_by: str


@dataclass(frozen=True, slots=True)
class DefinitionVersion:
    """One version of a definition, kept after later versions replace it."""

    kind: Kind
    name: str
    version: int
    spec: dict[str, Any]
    digest: str
    created_time: int
    created_by: str


@dataclass(frozen=True, slots=True)
class Change:
    """What an apply does to one definition: its version after (``None`` when removed) and
    before (``None`` when new), and what differs, for people."""

    kind: Kind
    name: str
    action: Action
    version: int | None
    previous: int | None = None
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ApplyPlan:
    """What applying a set of definitions changes, and what those changes break; ``applied``
    tells whether it was written (``apply``) or only computed (``diff``)."""

    changes: tuple[Change, ...] = ()
    breaking: tuple[str, ...] = ()
    applied: bool = False

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def changed(self) -> bool:
        return any(c.action != "unchanged" for c in self.changes)


@dataclass(frozen=True, slots=True)
class NewVersion:
    """A version an apply writes."""

    kind: Kind
    name: str
    version: int
    spec: dict[str, Any]
    digest: str


@dataclass(frozen=True, slots=True)
class Writes:
    """Everything one apply writes, in one transaction. ``based_on`` is every current
    ``(kind, name, version)`` the plan was computed from: checked again when writing, so an
    apply that ran meanwhile is never silently overwritten."""

    versions: tuple[NewVersion, ...] = ()
    removals: tuple[tuple[Kind, str], ...] = ()
    based_on: frozenset[tuple[str, str, int]] = field(default_factory=frozenset)
