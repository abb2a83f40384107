"""``DatasetsApi``: what ``client.datasets`` offers.

``client.DatasetClient`` implements it embedded (the service over the SQL store and the
artifact store, bound to the client's scope). A reference is ``NAME``, ``NAME@latest`` or
``NAME@VERSION``. Another workspace's datasets are ``NotFound``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gnomon.data.entities import (
    AddResult,
    Dataset,
    DatasetDiff,
    DatasetVersion,
    Manifest,
    RunInput,
    UsedBy,
)
from gnomon.progress import ProgressCallback

if TYPE_CHECKING:
    import pandas as pd


class DatasetsApi(Protocol):
    def add(
        self,
        path: str | Path,
        name: str,
        *,
        message: str = "",
        on_progress: ProgressCallback | None = None,
    ) -> AddResult:
        """Version the file or folder at ``path`` as ``name``: content-addressed, stored once
        per workspace. Unchanged content makes no new version (``created`` is false).

        Raises:
            InvalidInput: the path does not exist or holds no file; a bad name.
        """
        ...

    def log(
        self, data: Any, name: str, *, message: str = "", run_id: str | None = None
    ) -> AddResult:
        """Version a pandas, Polars or Arrow table (as one Parquet file), or a path;
        ``run_id`` names the run that produced it."""
        ...

    def list(self) -> list[Dataset]: ...

    def get(self, name: str) -> Dataset:
        """Raises ``NotFound``."""
        ...

    def versions(self, name: str) -> list[DatasetVersion]:
        """Every version, newest first. Raises ``NotFound``."""
        ...

    def version(self, ref: str) -> DatasetVersion:
        """Raises ``NotFound`` for an unknown dataset or version."""
        ...

    def manifest(self, ref: str) -> Manifest: ...

    def checkout(
        self, ref: str, dest: str | Path, *, on_progress: ProgressCallback | None = None
    ) -> Path:
        """Restore a version, byte for byte, into a new or empty folder."""
        ...

    def diff(self, before: str, after: str) -> DatasetDiff: ...

    def load(self, ref: str) -> pd.DataFrame:
        """A table version (Parquet or CSV files) as one DataFrame.

        Raises:
            InvalidInput: the version holds files that are not tables.
        """
        ...

    def log_input(self, run_id: str, ref: str, context: str = "input") -> DatasetVersion:
        """Record that run ``run_id`` used version ``ref`` as ``context`` (``training``,
        ``evaluation``...: letters, digits, '-' and '_'); recording it again changes nothing.

        Raises:
            NotFound: the run or the version is not in this workspace.
        """
        ...

    def inputs(self, run_id: str) -> list[RunInput]:
        """The dataset versions a run used."""
        ...

    def used_by(self, ref: str) -> UsedBy:
        """The runs that used a version, newest first, and the model versions they made."""
        ...
