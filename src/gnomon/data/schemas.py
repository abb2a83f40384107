"""Dataset wire models: defined once, used by the server routes and the HTTP client.

Names, references and paths stay loose here (bounded text) and are checked by the service,
so a bad value gets the same message embedded and remote. Schemas, statistics and profiles
travel as the JSON their ``to_dict`` writes.
"""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge, Le, MaxLen
from pydantic import Field, Strict

from gnomon.data.access import MAX_ACCESS_USERS, DatasetAccess
from gnomon.data.api import DEFAULT_GRACE_S
from gnomon.data.entities import (
    AddResult,
    Dataset,
    DatasetDiff,
    DatasetKind,
    DatasetVersion,
    FileChange,
    FileEntry,
    Manifest,
    ModelUse,
    RunInput,
    TableChange,
    UsedBy,
)
from gnomon.data.entries import MAX_ENTRIES, MAX_OBJECT_BYTES
from gnomon.data.validation import ValidationReport
from gnomon.wire import Text, Wire, WireBool, WireFloat, WireJson

MAX_DIGESTS_ASKED = 10_000  # digests one "which are missing" request names
LABEL_LENGTH = 1024
MESSAGE_LENGTH = 10_000
SOURCE_ITEMS = 32

Label = Annotated[Text, MaxLen(LABEL_LENGTH)]
Size = Annotated[int, Strict(), Ge(0), Le(MAX_OBJECT_BYTES)]


class DatasetOut(Wire):
    id: str
    name: str
    description: str
    latest_version: int
    created_time: int
    updated_time: int
    created_by: str

    def entity(self) -> Dataset:
        return Dataset(**self.model_dump())


class VersionOut(Wire):
    dataset: str
    version: int
    manifest_digest: str
    files: int
    bytes: int
    kind: DatasetKind
    message: str
    source: dict[str, str]
    created_time: int
    created_by: str
    run_id: str | None = None

    def entity(self) -> DatasetVersion:
        return DatasetVersion(**self.model_dump())


class EntryWire(Wire):
    """One file of a version, in a manifest and in a new version's body."""

    path: Label
    digest: Annotated[Text, MaxLen(64)]
    size: Size

    def entity(self) -> FileEntry:
        return FileEntry(self.path, self.digest, self.size)


class ManifestOut(Wire):
    digest: str
    files: list[EntryWire]

    def entity(self) -> Manifest:
        return Manifest(tuple(f.entity() for f in self.files), self.digest)


class AddResultOut(Wire):
    version: VersionOut
    created: bool
    new_objects: int
    new_bytes: int
    validation: dict[str, Any] | None = None

    @classmethod
    def of(cls, result: AddResult) -> AddResultOut:
        report = result.validation.to_dict() if result.validation is not None else None
        return cls(
            version=VersionOut.model_validate(result.version),
            created=result.created,
            new_objects=result.new_objects,
            new_bytes=result.new_bytes,
            validation=report,
        )

    def entity(self) -> AddResult:
        report = None if self.validation is None else ValidationReport.from_dict(self.validation)
        return AddResult(
            self.version.entity(), self.created, self.new_objects, self.new_bytes, report
        )


class NewVersion(Wire):
    """A version of objects uploaded before (``PUT /dataset-objects/{digest}``)."""

    files: Annotated[list[EntryWire], MaxLen(MAX_ENTRIES)]
    message: Annotated[Text, MaxLen(MESSAGE_LENGTH)] = ""
    source: Annotated[dict[Label, Label], MaxLen(SOURCE_ITEMS)] | None = None
    run_id: Annotated[Text, MaxLen(64)] | None = None


class MissingAsk(Wire):
    digests: Annotated[list[Annotated[Text, MaxLen(64)]], MaxLen(MAX_DIGESTS_ASKED)]


class MissingOut(Wire):
    missing: list[str]


class CollectAsk(Wire):
    grace_s: WireFloat = DEFAULT_GRACE_S
    dry_run: WireBool = False


class CollectedOut(Wire):
    objects: int
    bytes: int
    manifests: int
    dry_run: bool


class ChangeWire(Wire):
    path: str
    old: EntryWire | None
    new: EntryWire | None

    def entity(self) -> FileChange:
        old = None if self.old is None else self.old.entity()
        return FileChange(self.path, old, None if self.new is None else self.new.entity())


class TableChangeWire(Wire):
    path: str
    rows_before: int | None
    rows_after: int | None
    columns_added: list[str]
    columns_removed: list[str]
    types_changed: list[tuple[str, str, str]]

    def entity(self) -> TableChange:
        return TableChange(
            self.path,
            self.rows_before,
            self.rows_after,
            tuple(self.columns_added),
            tuple(self.columns_removed),
            tuple(self.types_changed),
        )


class DiffOut(Wire):
    before: str
    after: str
    added: list[ChangeWire]
    removed: list[ChangeWire]
    changed: list[ChangeWire]
    tables: list[TableChangeWire]

    def entity(self) -> DatasetDiff:
        return DatasetDiff(
            self.before,
            self.after,
            tuple(c.entity() for c in self.added),
            tuple(c.entity() for c in self.removed),
            tuple(c.entity() for c in self.changed),
            tuple(t.entity() for t in self.tables),
        )


class RunInputOut(Wire):
    run_id: str
    ref: str
    context: str
    recorded_time: int
    run_name: str = ""
    experiment: str = ""
    status: str = ""

    def entity(self) -> RunInput:
        return RunInput(**self.model_dump())


class ModelUseOut(Wire):
    model: str
    version: int
    run_id: str


class UsedByOut(Wire):
    ref: str
    runs: list[RunInputOut]
    models: list[ModelUseOut]

    def entity(self) -> UsedBy:
        models = tuple(ModelUse(m.model, m.version, m.run_id) for m in self.models)
        return UsedBy(self.ref, tuple(r.entity() for r in self.runs), models)


class LogInput(Wire):
    ref: Label
    context: Annotated[Text, MaxLen(64)] = "input"


class SchemaEdit(Wire):
    """One column's change: ``nullable``, ``min``, ``max``, ``categories``, ``unique``."""

    column: Label
    changes: Annotated[dict[Annotated[Text, MaxLen(32)], WireJson], MaxLen(8)]


class SetAccess(Wire):
    """Who may use the dataset from now on; both lists empty: open to the workspace."""

    readers: Annotated[list[Label], MaxLen(MAX_ACCESS_USERS)] = Field(default_factory=list)
    writers: Annotated[list[Label], MaxLen(MAX_ACCESS_USERS)] = Field(default_factory=list)


class AccessOut(Wire):
    dataset: str
    readers: list[str]
    writers: list[str]
    restricted: bool

    @classmethod
    def of(cls, access: DatasetAccess) -> AccessOut:
        return cls(
            dataset=access.dataset,
            readers=list(access.readers),
            writers=list(access.writers),
            restricted=access.restricted,
        )

    def entity(self) -> DatasetAccess:
        return DatasetAccess(self.dataset, tuple(self.readers), tuple(self.writers))
