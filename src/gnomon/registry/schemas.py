"""Registry wire models: defined once, used by the server routes and the HTTP client.

Request bodies keep loose types where the service has the rule (names, statuses, tags), so a
bad value is refused by the same check, with the same message, in embedded and remote mode;
but every value is of a checked wire type (``gnomon.wire``), so none the database cannot hold
gets through.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import MaxLen
from pydantic import Field

from gnomon.modelfolder.contract import MAX_CATEGORY_VALUES, MAX_COLUMNS, ColumnSpec, Contract
from gnomon.registry.entities import (
    AliasEvent,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    VersionStatus,
)
from gnomon.wire import Text, Wire, WireBool, WireFloat, WireInt, WireJson

MAX_TAGS = 1_000  # tags given with a new model or version

# A version in a path: a number, an alias (at most 64 characters) or "latest".
VersionSelector = Annotated[Text, MaxLen(64)]


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
    files: dict[str, str]  # the recorded digests a client checks its download against
    spec_sha256: str | None

    def entity(self) -> ModelVersion:
        return ModelVersion(**self.model_dump())


class LoggedModelOut(Wire):
    run_id: str
    path: str
    files: dict[str, str]
    spec_sha256: str
    created_time: int

    def entity(self) -> LoggedModel:
        return LoggedModel(**self.model_dump())


class RecordLoggedModel(Wire):
    """Which folder of the run's artifacts to hash and record: the server computes the
    digests from what it stored, never from the client."""

    path: Text


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
    name: Text
    description: Text = ""
    tags: dict[Text, WireJson] = Field(default_factory=dict, max_length=MAX_TAGS)


class UpdateModel(Wire):
    description: Text


class RegisterVersion(Wire):
    source: Text
    description: Text = ""
    tags: dict[Text, WireJson] = Field(default_factory=dict, max_length=MAX_TAGS)
    alias: Text | None = None


class UpdateVersion(Wire):
    description: Text | None = None
    status: Text | None = None  # READY or ARCHIVED, any case; checked by the service


class SetAlias(Wire):
    version: WireInt


class SetTag(Wire):
    value: WireJson


class ColumnBody(Wire):
    """One column of a contract (``ColumnSpec.to_dict``); absent bounds mean unbounded."""

    name: Text
    dtype: Text
    nullable: WireBool = False
    minimum: WireInt | WireFloat | None = None
    maximum: WireInt | WireFloat | None = None
    categories: list[WireJson] | None = Field(default=None, max_length=MAX_CATEGORY_VALUES)


class ContractBody(Wire):
    """A model's input contract, in the shape of ``Contract.to_dict``."""

    margin: WireFloat
    inputs: list[ColumnBody] = Field(max_length=MAX_COLUMNS)
    outputs: list[ColumnBody] = Field(default_factory=list, max_length=MAX_COLUMNS)

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
