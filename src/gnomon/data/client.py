"""DatasetClient: ``client.datasets`` embedded, the dataset service bound to the client's scope
(the contract is documented on :class:`gnomon.data.api.DatasetsApi`)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon._types import Scope
from gnomon.data import frames
from gnomon.data.entities import (
    AddResult,
    Dataset,
    DatasetDiff,
    DatasetKind,
    DatasetVersion,
    Manifest,
    RunInput,
    UsedBy,
)
from gnomon.data.service import DatasetService
from gnomon.errors import InvalidInput
from gnomon.progress import ProgressCallback

if TYPE_CHECKING:
    import pandas as pd


class DatasetClient:
    def __init__(self, service: DatasetService, scope: Scope) -> None:
        self.service = service
        self.scope = scope

    def add(
        self,
        path: str | Path,
        name: str,
        *,
        message: str = "",
        on_progress: ProgressCallback | None = None,
    ) -> AddResult:
        return self.service.add(
            self.scope, Path(path), name, message=message, on_progress=on_progress
        )

    def log(
        self, data: Any, name: str, *, message: str = "", run_id: str | None = None
    ) -> AddResult:
        if isinstance(data, str | Path):
            return self.service.add(self.scope, Path(data), name, message=message, run_id=run_id)
        table = frames.to_arrow(data)
        with tempfile.TemporaryDirectory(prefix="gnomon-dataset-") as folder:
            path = frames.write_table(table, Path(folder))
            source = {"kind": "table", "rows": str(table.num_rows)}
            return self.service.add(
                self.scope, path, name, message=message, source=source, run_id=run_id
            )

    def list(self) -> list[Dataset]:
        return self.service.list(self.scope)

    def get(self, name: str) -> Dataset:
        return self.service.get(self.scope, name)

    def versions(self, name: str) -> list[DatasetVersion]:
        return self.service.versions(self.scope, name)

    def version(self, ref: str) -> DatasetVersion:
        return self.service.version(self.scope, ref)

    def manifest(self, ref: str) -> Manifest:
        return self.service.manifest(self.scope, ref)

    def checkout(
        self, ref: str, dest: str | Path, *, on_progress: ProgressCallback | None = None
    ) -> Path:
        return self.service.checkout(self.scope, ref, Path(dest), on_progress)

    def diff(self, before: str, after: str) -> DatasetDiff:
        return self.service.diff(self.scope, before, after)

    def load(self, ref: str) -> pd.DataFrame:
        version = self.version(ref)
        if version.kind is not DatasetKind.TABLE:
            raise InvalidInput(
                f"{version.ref} holds files that are not tables: check it out instead",
                {"ref": version.ref},
            )
        manifest = self.manifest(version.ref)
        with tempfile.TemporaryDirectory(prefix="gnomon-load-") as folder:
            local = self.service.checkout(self.scope, version.ref, Path(folder) / "version")
            return frames.read_tables(local, [entry.path for entry in manifest.files])

    def log_input(self, run_id: str, ref: str, context: str = "input") -> DatasetVersion:
        return self.service.log_input(self.scope, run_id, ref, context)

    def inputs(self, run_id: str) -> list[RunInput]:
        return self.service.inputs(self.scope, run_id)

    def used_by(self, ref: str) -> UsedBy:
        return self.service.used_by(self.scope, ref)
