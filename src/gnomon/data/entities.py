"""Datasets and their versions: what a version holds (a manifest of files) and how one is named."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    from gnomon.data.validation import ValidationReport

# A version reference: "transactions", "transactions@3" or "transactions@latest".
_REF = re.compile(r"^(?P<name>.+?)(?:@(?P<version>[^@]*))?$", re.DOTALL)
LATEST = "latest"
# Files Parquet and CSV readers understand: versions made only of these are tables.
TABLE_SUFFIXES = (".parquet", ".csv")


class DatasetKind(StrEnum):
    TABLE = "table"  # every file is Parquet or CSV: rows and schema are understood
    FILES = "files"  # anything else, compared and restored byte for byte


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of a version: its path inside the version, content digest and size."""

    path: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """Every file of a version, sorted by path; its ``digest`` names the whole content."""

    files: tuple[FileEntry, ...]
    digest: str

    @property
    def bytes(self) -> int:
        return sum(entry.size for entry in self.files)

    def by_path(self) -> dict[str, FileEntry]:
        return {entry.path: entry for entry in self.files}

    @property
    def kind(self) -> DatasetKind:
        tables = all(entry.path.lower().endswith(TABLE_SUFFIXES) for entry in self.files)
        return DatasetKind.TABLE if self.files and tables else DatasetKind.FILES


@dataclass(frozen=True, slots=True)
class Dataset:
    id: str
    name: str
    description: str
    latest_version: int
    created_time: int
    updated_time: int
    created_by: str


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One immutable version: its manifest is stored by ``manifest_digest``."""

    dataset: str  # the dataset's name
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

    @property
    def ref(self) -> str:
        return f"{self.dataset}@{self.version}"


@dataclass(frozen=True, slots=True)
class AddResult:
    """What ``add`` did: the version (new, or the latest when nothing changed) and how much
    it stored (objects already stored for this workspace are not stored again). For a new
    table version, ``validation`` checks it against the dataset's schema (None for the
    first, which the schema is inferred from)."""

    version: DatasetVersion
    created: bool
    new_objects: int
    new_bytes: int
    validation: ValidationReport | None = None


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str
    old: FileEntry | None
    new: FileEntry | None


@dataclass(frozen=True, slots=True)
class TableChange:
    """How one changed table file differs: rows, and columns added, removed or retyped."""

    path: str
    rows_before: int | None
    rows_after: int | None
    columns_added: tuple[str, ...] = ()
    columns_removed: tuple[str, ...] = ()
    types_changed: tuple[tuple[str, str, str], ...] = ()  # column, old type, new type


@dataclass(frozen=True, slots=True)
class DatasetDiff:
    before: str
    after: str
    added: tuple[FileChange, ...] = ()
    removed: tuple[FileChange, ...] = ()
    changed: tuple[FileChange, ...] = ()
    tables: tuple[TableChange, ...] = field(default_factory=tuple)

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.changed)


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``"name@3"`` -> ``("name", 3)``; ``"name"`` and ``"name@latest"`` -> ``("name", None)``.

    Raises:
        InvalidInput: the version is neither a positive integer nor ``latest``.
    """
    if not isinstance(ref, str) or not ref:
        raise InvalidInput(f"a dataset reference is NAME or NAME@VERSION, got {ref!r}")
    match = _REF.match(ref)
    assert match is not None  # the pattern matches any non-empty text
    name, version = match["name"], match["version"]
    if version is None or version == LATEST:
        return name, None
    # isascii: "²" and "٣" are digits to isdigit() but not to int()
    if not (version.isascii() and version.isdigit()) or not 1 <= int(version) <= 2**31:
        raise InvalidInput(
            f"dataset version {version!r} in {ref!r} must be a positive integer or 'latest'",
            {"ref": ref},
        )
    return name, int(version)


@dataclass(frozen=True, slots=True)
class RunInput:
    """A dataset version a run used, and in what role (``training``, ``evaluation``...)."""

    run_id: str
    ref: str
    context: str
    recorded_time: int
    run_name: str = ""
    experiment: str = ""
    status: str = ""


@dataclass(frozen=True, slots=True)
class ModelUse:
    """A registered model version whose source run used the dataset version."""

    model: str
    version: int
    run_id: str


@dataclass(frozen=True, slots=True)
class UsedBy:
    ref: str
    runs: tuple[RunInput, ...] = ()
    models: tuple[ModelUse, ...] = ()
