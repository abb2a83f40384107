"""The feature registry's wire: definitions as their JSON specs (``specs.to_spec``), what an
apply or a diff changes, and applied definitions with their versions; shared by
``registry_routes.py`` and ``registry_http.py``.

A spec stays a loose JSON object here: ``specs.from_spec`` checks it, so a bad definition
gets the same message embedded and remote. Its size is bounded by the request's body limit
and again per definition by the planner (``plan.MAX_SPEC_BYTES``).
"""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import MaxLen
from pydantic import Field

from gnomon.features.entities import AppliedDefinition, ApplyPlan, Change, DefinitionVersion
from gnomon.features.plan import MAX_DEFINITIONS
from gnomon.features.tables import NAME_LENGTH
from gnomon.wire import Text, Wire, WireBool, WireJson

Word = Annotated[Text, MaxLen(16)]  # a kind: entity, view or service


class DefinitionIn(Wire):
    kind: Word
    spec: Annotated[dict[Annotated[Text, MaxLen(NAME_LENGTH)], WireJson], MaxLen(64)]


class ApplyDefinitions(Wire):
    """Definitions to apply (or diff) as a whole; ``force`` applies breaking changes and
    ``prune`` removes the applied definitions the set leaves out."""

    definitions: Annotated[list[DefinitionIn], MaxLen(MAX_DEFINITIONS)]
    force: WireBool = False
    prune: WireBool = False


# Built from the entities' attributes (``Wire`` validates from attributes) and back from
# their fields: one list of fields per type, the entity's.


class ChangeOut(Wire):
    kind: str
    name: str
    action: str
    version: int | None
    previous: int | None = None
    details: list[str] = Field(default_factory=list)

    def entity(self) -> Change:
        return Change(**{**self.model_dump(), "details": tuple(self.details)})


class PlanOut(Wire):
    changes: list[ChangeOut]
    breaking: list[str]
    applied: bool

    @classmethod
    def of(cls, plan: ApplyPlan) -> PlanOut:
        return cls.model_validate(plan)

    def entity(self) -> ApplyPlan:
        return ApplyPlan(
            tuple(c.entity() for c in self.changes), tuple(self.breaking), self.applied
        )


class DefinitionOut(Wire):
    kind: str
    name: str
    version: int
    spec: dict[str, Any]
    digest: str
    created_time: int
    updated_time: int
    updated_by: str

    @classmethod
    def of(cls, d: AppliedDefinition) -> DefinitionOut:
        return cls.model_validate(d)

    def entity(self) -> AppliedDefinition:
        return AppliedDefinition(**self.model_dump())


class VersionOut(Wire):
    kind: str
    name: str
    version: int
    spec: dict[str, Any]
    digest: str
    created_time: int
    created_by: str

    @classmethod
    def of(cls, v: DefinitionVersion) -> VersionOut:
        return cls.model_validate(v)

    def entity(self) -> DefinitionVersion:
        return DefinitionVersion(**self.model_dump())
