"""``DatasetsApi``: what ``client.datasets`` offers.

``client.DatasetClient`` implements it embedded (the service over the SQL store and the
artifact store, bound to the client's scope). A reference is ``NAME``, ``NAME@latest`` or
``NAME@VERSION``. Another workspace's datasets are ``NotFound``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gnomon.data.access import DatasetAccess
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

    from gnomon.data.collect import Collected
    from gnomon.data.described import Described
    from gnomon.data.schema import DatasetSchema
    from gnomon.data.validation import Thresholds, ValidationReport

DEFAULT_GRACE_S = 86_400.0  # gc leaves newer objects: longer than any add or upload takes


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

    def schema(self, name: str) -> DatasetSchema:
        """The dataset's current schema: inferred from its first table version, then as
        edited. Raises ``NotFound`` when it has no table version."""
        ...

    def edit_schema(self, name: str, column: str, **changes: Any) -> DatasetSchema:
        """Tighten or loosen one column: ``nullable``, ``min``, ``max``, ``categories``,
        ``unique``. Later versions are validated against the result.

        Raises:
            InvalidInput: an unknown column, or a change its type cannot hold.
            Conflict: someone changed the schema at the same moment.
        """
        ...

    def described(self, ref: str) -> Described:
        """A table version's own inferred schema and its check when it was added."""
        ...

    def validate(
        self, name: str, target: Any, thresholds: Thresholds | None = None
    ) -> ValidationReport:
        """Check ``target`` (a DataFrame or Arrow table, a Parquet or CSV path, or a
        version ``NAME@V``) against the dataset's schema: anomalies with counts and examples.
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

    def collect(
        self,
        *,
        grace_s: float = DEFAULT_GRACE_S,
        dry_run: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> Collected:
        """Removes the workspace's content objects that no version names, stored more than
        ``grace_s`` seconds ago (an add cut short, uploads never versioned); with
        ``dry_run``, only counts them. Through a server: a workspace admin's."""
        ...

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
        """Version what ``source`` holds as ``name``; an unchanged source makes no new
        version (``created`` is false).

        Args:
            source: ``postgresql://user@host:port/db`` with ``table`` (``NAME`` or
                ``SCHEMA.NAME``) or ``query``; ``duckdb`` with ``query``; or
                ``s3://bucket/path`` or a local path to a Parquet or CSV file, or a folder
                of them (copied as they are). A table or query's rows are streamed into
                Parquet part files (``part-00000.parquet``...); give a query an ``ORDER BY``
                so the same rows give the same version.
            on_progress: called with rows written, or bytes copied for files.

        Raises:
            InvalidInput: an unknown scheme; a missing, extra or empty ``table``/``query``;
                the database's error for a query; a file that is not Parquet or CSV, or a
                CSV that does not parse (with its line).
            Unavailable: PostgreSQL or S3 cannot be reached (no password is shown).
        """
        ...

    def profile(self, ref: str) -> dict[str, Any]:
        """A table version's profile: ``rows``; per column (``columns``) its ``type``,
        ``count``, ``missing``, ``missing_fraction`` and ``distinct``; for numbers ``mean``,
        ``std`` (as pandas, ddof 1), ``min``, ``max``, ``quantiles`` (p05...p95) and a
        ``histogram`` (``edges``, ``counts``: at most 30 bins); for text and booleans the 20
        most frequent values (``top``) and the rows holding any other (``other``); and the
        Pearson ``correlations`` of the first 50 numeric columns (None where undefined).
        Computed on first request and stored with the version.

        Raises:
            NotFound: the dataset or version.
            InvalidInput: the version holds files that are not tables.
        """
        ...

    def profile_html(self, ref: str, compare: str | None = None) -> str:
        """The profile as a self-contained HTML page (inline SVG charts, no script, nothing
        fetched); with ``compare``, both versions overlaid (histograms on the same bins)."""
        ...

    def access(self, name: str) -> DatasetAccess:
        """Who may use dataset ``name``: nobody listed means it is open to the workspace's
        roles (viewers read, editors write). Raises ``NotFound``."""
        ...

    def set_access(
        self, name: str, *, readers: Sequence[str] = (), writers: Sequence[str] = ()
    ) -> DatasetAccess:
        """Restrict dataset ``name`` to the users named (both empty: open it again). On a
        server only those users and the workspace's admins see it; writers may add versions
        and edit its schema. Embedded mode has no users: the list is kept, nothing is
        restricted.

        Raises:
            NotFound: the dataset.
            PermissionDenied: on a server, the caller is neither a workspace admin nor one of
                its writers (nor, while it is open, its creator).
        """
        ...
