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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from gnomon.errors import InvalidInput

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
    local_artifacts: Path | None = None  # a file store's own artifacts folder, if it moved


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
    problems: list[tuple[str, str]] = field(default_factory=list)  # (what, why) left out


class MlflowSource(Protocol):
    """One MLflow tracking store, read-only."""

    uri: str  # as shown to people: no password

    def experiments(self) -> list[SourceExperiment]: ...

    def runs(self, experiment: SourceExperiment) -> list[SourceRun]:
        """The experiment's runs, active and deleted, oldest first."""
        ...

    def run_data(self, run: SourceRun) -> SourceRunData: ...

    def close(self) -> None: ...


def open_source(uri: str) -> MlflowSource:
    """The reader for ``uri``: a file store folder (a path or ``file://``), ``sqlite:///…``
    or ``postgresql://…``.

    Raises:
        InvalidInput: an unsupported scheme, or something that is not an MLflow store.
        NotFound: the folder or database file does not exist.
    """
    scheme = urlparse(uri).scheme.lower()
    if scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt"):  # C:\mlruns
        from gnomon.mlflow_compat.import_file_store import FileStoreSource

        return FileStoreSource(local_path(uri))
    if scheme.split("+")[0] in ("sqlite", "postgresql", "postgres", "mysql", "mssql"):
        from gnomon.mlflow_compat.import_sql_store import SqlStoreSource

        return SqlStoreSource(uri)
    if scheme in ("http", "https", "databricks"):
        raise InvalidInput(
            f"cannot import from the MLflow server at {uri!r}: point --from at its backend "
            "store (the folder or database its --backend-store-uri names)"
        )
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


def artifact_folder(run: SourceRun) -> Path | str | None:
    """The local folder holding ``run``'s artifacts, ``None`` when it has none, or why they
    cannot be read (a remote location)."""
    uri = run.artifact_uri or ""
    scheme = urlparse(uri).scheme.lower()
    if uri and scheme not in ("", "file") and not (len(scheme) == 1 and os.name == "nt"):
        return f"artifacts stored at {scheme}:// are not copied; only local folders are read"
    folder = local_path(uri).resolve() if uri else None
    if folder is not None and folder.is_dir():
        return folder
    # A file store copied elsewhere keeps the old absolute artifact_uri: use its own folder.
    if run.local_artifacts is not None and run.local_artifacts.is_dir():
        return run.local_artifacts
    return None  # MLflow makes the folder only when something is logged


def artifact_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """(key, path) of every file under ``folder``, in a stable order; links are yielded too,
    for the caller to refuse (a link may point anywhere on this machine)."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        base = Path(root)
        for name in sorted(files + [d for d in dirs if (base / d).is_symlink()]):
            path = base / name
            yield path.relative_to(folder).as_posix(), path


def restore_infinity(value: float) -> float:
    if value == DBL_MAX:
        return float("inf")
    if value == -DBL_MAX:
        return float("-inf")
    return value
