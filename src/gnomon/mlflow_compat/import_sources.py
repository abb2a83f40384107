"""What an MLflow tracking store holds, read straight from its files or tables.

Each reader (``import_file_store.FileStoreSource``, ``import_sql_store.SqlStoreSource``) turns
one kind of store into the plain values below; ``importing.py`` writes them into gnomon. No
reader imports MLflow: the formats are MLflow's own (``mlflow/store/tracking/file_store.py``
and ``dbmodels/models.py``).

Registered models, their versions and aliases are not read here: a registry import goes
after the runs, mapping MLflow run ids through ``ImportSummary.run_ids``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from gnomon.errors import InvalidInput
from gnomon.mlflow_compat.import_confined import ConfinedFolder
from gnomon.mlflow_compat.import_summary import Skipped

PARENT_TAG = "mlflow.parentRunId"  # where MLflow keeps a nested run's parent
NOTE_TAG = "mlflow.note.content"  # a run's description in MLflow's UI
# MLflow's SQL store keeps ±inf as ±DBL_MAX (sqlalchemy_store.sanitize_metric_value).
DBL_MAX = 1.7976931348623157e308


@dataclass(frozen=True, slots=True)
class SourceExperiment:
    id: str
    name: str
    deleted: bool
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourceRun:
    id: str
    experiment_id: str
    name: str | None
    status: str  # RUNNING, SCHEDULED, FINISHED, FAILED or KILLED
    start_time: int | None
    end_time: int | None
    user: str | None
    deleted: bool
    artifact_uri: str | None
    parent_id: str | None = None
    # A file store run's own artifacts folder, read in place of artifact_uri when that names
    # the store's default location, wherever the store was when the run was written.
    local_artifacts: Path | None = None


@dataclass(frozen=True, slots=True)
class SourcePoint:
    key: str
    value: float
    step: int
    timestamp: int


@dataclass(slots=True)
class SourceRunData:
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[SourcePoint] = field(default_factory=list)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, what, why)


class MlflowSource(Protocol):
    """One MLflow tracking store, read-only."""

    uri: str  # as shown to people: no password
    problems: list[Skipped]  # experiments, runs and files left out while reading, and why

    @property
    def folder(self) -> ConfinedFolder | None:
        """The store's own folder (a file store's): artifacts inside it may be read."""
        ...

    def experiments(self) -> list[SourceExperiment]: ...

    def runs(self, experiment: SourceExperiment) -> list[SourceRun]:
        """The experiment's runs, active and deleted, oldest first."""
        ...

    def run_data(self, run: SourceRun) -> SourceRunData: ...

    def close(self) -> None: ...


def open_source(uri: str, *, max_file_bytes: int = 5 * 2**30) -> MlflowSource:
    """The reader for ``uri``: a file store folder (a path or ``file://``), ``sqlite:///…``,
    ``postgresql://…``, or a tracking server's ``http(s)://host:port`` (each artifact file
    read from it at most ``max_file_bytes``; ``MLFLOW_TRACKING_TOKEN`` sent when set).

    Raises:
        InvalidInput: an unsupported scheme, or something that is not an MLflow store.
        NotFound: the folder or database file does not exist.
    """
    scheme = urlparse(uri).scheme.lower()
    if is_local(uri):  # also C:\mlruns
        from gnomon.mlflow_compat.import_file_store import FileStoreSource

        return FileStoreSource(local_path(uri))
    if scheme.split("+")[0] in ("sqlite", "postgresql", "postgres", "mysql", "mssql"):
        from gnomon.mlflow_compat.import_sql_store import SqlStoreSource

        return SqlStoreSource(uri)
    if scheme in ("http", "https"):
        from gnomon.mlflow_compat.import_server import ServerSource

        token = os.environ.get("MLFLOW_TRACKING_TOKEN") or None
        return ServerSource(uri, token=token, max_file_bytes=max_file_bytes)
    if scheme == "databricks":
        raise InvalidInput(f"cannot import from Databricks ({uri!r}): use a server's http(s)://")
    raise InvalidInput(
        f"unsupported MLflow store URI {uri!r}: use a folder, sqlite:/// or postgresql://"
    )


def local_path(uri: str) -> Path:
    """The path of a ``file://`` URI or a plain path (relative to the current folder)."""
    parsed = urlparse(uri)
    if parsed.scheme.lower() == "file":
        if parsed.netloc not in ("", "localhost"):
            raise InvalidInput(f"{uri!r} names another host; only local files can be read")
        return Path(url2pathname(unquote(parsed.path)))
    return Path(uri).expanduser()


def is_local(uri: str) -> bool:
    """Whether ``uri`` names a local path (a plain path or ``file://``)."""
    scheme = urlparse(uri).scheme.lower()
    return scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt")


def text_or_none(value: object) -> str | None:
    """``value`` when it is text, ``None`` when missing; raises ``ValueError`` otherwise (a
    hand-edited store can hold a number or bytes where MLflow writes text)."""
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"not text: {value!r}")


def whole_number(value: object) -> int | None:
    """``value`` when it is a whole number, ``None`` when missing; raises ``ValueError``
    otherwise."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f"not a whole number: {value!r}")


def restore_infinity(value: float) -> float:
    if value == DBL_MAX:
        return float("inf")
    if value == -DBL_MAX:
        return float("-inf")
    return value
