"""Registry wire models: defined once, used by the server routes and the HTTP client.

Request bodies keep loose types where the service has the rule (names, statuses, tags), so a
bad value is refused by the same check, with the same message, in embedded and remote mode.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from gnomon.models.contract import ColumnSpec, Contract
from gnomon.registry.entities import AliasEvent, ModelVersion, RegisteredModel, VersionStatus
from gnomon.wire import Wire


class RegisteredModelOut(Wire):
    id: str
    workspace_id: str
    name: str
    description: str
    created_time: int
    updated_time: int
    tags: dict[str, str]
    latest_version: int | None
    aliases: dict[str, int]

    def entity(self) -> RegisteredModel:
        return RegisteredModel(**self.model_dump())


class ModelVersionOut(Wire):
    model_name: str
    version: int
    source: str
    run_id: str | None
    storage_uri: str
    status: VersionStatus
    flavor: str
    created_time: int
    created_by: str
    updated_time: int
    description: str
    tags: dict[str, str]
    aliases: list[str]

    def entity(self) -> ModelVersion:
        return ModelVersion(**self.model_dump())


class AliasEventOut(Wire):
    model_name: str
    alias: str
    version: int | None
    previous: int | None
    actor: str
    time: int

    def entity(self) -> AliasEvent:
        return AliasEvent(**self.model_dump())


class CreateModel(Wire):
    name: str
    description: str = ""
    tags: dict[str, Any] = Field(default_factory=dict)


class UpdateModel(Wire):
    description: str


class RegisterVersion(Wire):
    source: str
    description: str = ""
    tags: dict[str, Any] = Field(default_factory=dict)
    alias: str | None = None


class UpdateVersion(Wire):
    description: str | None = None
    status: str | None = None  # READY or ARCHIVED, any case; checked by the service


class SetAlias(Wire):
    version: int


class SetTag(Wire):
    value: Any


class ColumnBody(Wire):
    """One column of a contract (``ColumnSpec.to_dict``); absent bounds mean unbounded."""

    name: str
    dtype: str
    nullable: bool = False
    minimum: int | float | None = None
    maximum: int | float | None = None
    categories: list[Any] | None = None


class ContractBody(Wire):
    """A model's input contract, in the shape of ``Contract.to_dict``."""

    margin: float
    inputs: list[ColumnBody]
    outputs: list[ColumnBody] = Field(default_factory=list)

    @classmethod
    def of(cls, contract: Contract) -> ContractBody:
        return cls.model_validate(contract.to_dict())

    def contract(self) -> Contract:
        """The contract (``Contract.from_dict`` checks dtypes, bounds and duplicates)."""
        return Contract(
            inputs=[_column(c) for c in self.inputs],
            outputs=[_column(c) for c in self.outputs],
            margin=self.margin,
        )


def _column(body: ColumnBody) -> ColumnSpec:
    return ColumnSpec.from_dict(body.model_dump(exclude_none=True))
