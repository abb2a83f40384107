"""DatasetClient: ``client.datasets`` embedded, the dataset service bound to the client's scope
(the contract is documented on :class:`gnomon.data.api.DatasetsApi`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon._types import Scope
from gnomon.config import Settings
from gnomon.data import frames
from gnomon.data.access import DatasetAccess
from gnomon.data.api import DEFAULT_GRACE_S
from gnomon.data.collect import Collected
from gnomon.data.described import Described
from gnomon.data.entities import (
    AddResult,
    Dataset,
    DatasetDiff,
    DatasetVersion,
    Manifest,
    RunInput,
    UsedBy,
)
from gnomon.data.schema import DatasetSchema
from gnomon.data.service import DatasetService
from gnomon.data.validation import Thresholds, ValidationReport, validate
from gnomon.progress import ProgressCallback

if TYPE_CHECKING:
    import pandas as pd


class DatasetClient:
    """``settings`` say where S3 is for ingestion (default: from the environment)."""

    def __init__(
        self, service: DatasetService, scope: Scope, settings: Settings | None = None
    ) -> None:
        self.service = service
        self.scope = scope
        self.settings = settings

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
        with frames.staged(data) as (path, source):
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
        return self.service.read_table(self.scope, ref).to_pandas()

    def schema(self, name: str) -> DatasetSchema:
        return self.service.schema(self.scope, name)[0]

    def edit_schema(self, name: str, column: str, **changes: Any) -> DatasetSchema:
        return self.service.edit_schema(self.scope, name, column, changes)

    def described(self, ref: str) -> Described:
        return self.service.described(self.scope, ref)

    def validate(
        self, name: str, target: Any, thresholds: Thresholds | None = None
    ) -> ValidationReport:
        if isinstance(target, str | Path):
            return self.service.validate(self.scope, name, target, thresholds)
        return validate(target, self.schema(name), thresholds)

    def log_input(self, run_id: str, ref: str, context: str = "input") -> DatasetVersion:
        return self.service.log_input(self.scope, run_id, ref, context)

    def inputs(self, run_id: str) -> list[RunInput]:
        return self.service.inputs(self.scope, run_id)

    def used_by(self, ref: str) -> UsedBy:
        return self.service.used_by(self.scope, ref)

    def collect(
        self,
        *,
        grace_s: float = DEFAULT_GRACE_S,
        dry_run: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> Collected:
        return self.service.collect(
            self.scope, grace_s=grace_s, dry_run=dry_run, on_progress=on_progress
        )

    def ingest(
        self,
        name: str,
        source: str,
        *,
        table: str | None = None,
        query: str | None = None,
        message: str = "",
        on_progress: ProgressCallback | None = None,
    ) -> AddResult:
        from gnomon.data.ingest import ingest

        settings = self.settings or Settings()
        return ingest(
            self.service,
            self.scope,
            name,
            source,
            table=table,
            query=query,
            message=message,
            # Where S3 is, as the artifact store finds it: GNOMON_S3_ENDPOINT_URL.
            s3_endpoint_url=settings.s3_endpoint_url,
            on_progress=on_progress,
        )

    def profile(self, ref: str) -> dict[str, Any]:
        from gnomon.data.profile import version_profile

        return version_profile(self.service, self.scope, ref)

    def profile_html(self, ref: str, compare: str | None = None) -> str:
        from gnomon.data.profile_html import page

        return page(self.service, self.scope, ref, compare)

    def access(self, name: str) -> DatasetAccess:
        return self.service.access(self.scope, name)

    def set_access(
        self, name: str, *, readers: Sequence[str] = (), writers: Sequence[str] = ()
    ) -> DatasetAccess:
        return self.service.set_access(self.scope, name, readers, writers)
