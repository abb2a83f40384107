"""Reading an MLflow file store (``./mlruns``): ``meta.yaml`` per experiment and run, one
file per param and tag, one file of ``timestamp value step`` lines per metric.

Deleted experiments live under ``.trash/``; a deleted run stays in its experiment's folder
with ``lifecycle_stage: deleted``. Keys holding ``/`` are nested folders. Files are read as
UTF-8 bytes, exactly: MLflow writes them without a trailing newline. Every file is read
through the store's ``ConfinedFolder``: a symbolic link is listed in the summary, never
followed, and so is a file or folder that cannot be read as MLflow writes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from gnomon.errors import InvalidInput, NotFound
from gnomon.mlflow_compat.import_confined import LINK, ConfinedFolder, Refused
from gnomon.mlflow_compat.import_sources import (
    PARENT_TAG,
    SourceExperiment,
    SourcePoint,
    SourceRun,
    SourceRunData,
    is_local,
    local_path,
    text_or_none,
    whole_number,
)
from gnomon.mlflow_compat.import_summary import Skipped

TRASH = ".trash"
META = "meta.yaml"
ARTIFACTS = "artifacts"
# Folders of an experiment that are not runs, and of the root that are not experiments.
_NOT_RUNS = frozenset({"tags", "datasets", "traces", "models"})
_NOT_EXPERIMENTS = frozenset({TRASH, "models"})  # models/: the registry's file store
# MLflow's file store keeps a run's status as the proto enum's number.
_STATUSES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
T = TypeVar("T")


class FileStoreSource:
    """An MLflow file store folder, read-only."""

    def __init__(self, root: Path) -> None:
        if root.is_file():
            raise InvalidInput(
                f"{str(root)!r} is a file: for a SQLite store, write sqlite:///{root}"
            )
        if not root.is_dir():
            raise NotFound(f"MLflow store folder {str(root)!r} not found")
        self.folder = ConfinedFolder(root)
        self.root = self.folder.root
        self.uri = self.root.as_uri()
        self.problems: list[Skipped] = []
        self._folders: dict[str, Path] = {}  # experiment id -> its folder
        self._run_folders: dict[str, Path] = {}
        self._candidates = self._experiment_folders()
        if not self._candidates:
            raise InvalidInput(
                f"{str(root)!r} is not an MLflow file store: no experiment folder with a {META}"
            )

    def experiments(self) -> list[SourceExperiment]:
        found = []
        for folder in self._candidates:
            where = self._shown(folder)
            meta = self._yaml(folder / META, "experiment", where)
            name = meta.get("name") if isinstance(meta, dict) else None
            if not isinstance(meta, dict) or "experiment_id" not in meta or not name:
                if meta is not None:
                    self._problem("experiment", where, f"{META} names no experiment_id or name")
                continue
            experiment_id = str(meta["experiment_id"])
            self._folders[experiment_id] = folder
            deleted = folder.parent.name == TRASH or meta.get("lifecycle_stage") == "deleted"
            problems: list[tuple[str, str, str]] = []
            try:
                tags = dict(self._readable(folder / "tags", "experiment tag", problems))
            except OSError as exc:
                tags, problems = {}, [("experiment tags", "tags/", str(exc))]
            for kind, what, why in problems:
                self._problem(kind, f"experiment {str(name)!r}: {what}", why)
            found.append(SourceExperiment(experiment_id, str(name), deleted, tags))
        return found

    def runs(self, experiment: SourceExperiment) -> list[SourceRun]:
        folder = self._folders[experiment.id]
        try:
            entries = self.folder.entries(folder)
        except Refused as exc:  # made a link since it was listed
            self._problem("experiment", self._shown(folder), exc.reason)
            return []
        runs = []
        for name, kind in entries:
            if name in _NOT_RUNS or kind == "file":
                continue
            where = f"{self._shown(folder)}/{name}"
            if kind != "folder":
                self._problem("run", where, kind)
                continue
            meta = self._kind(folder / name / META)
            if meta is None:
                continue  # not a run's folder
            if meta != "file":
                self._problem("run", where, f"{META}: {meta}")
                continue
            run = self._run(folder / name, experiment.id, where)
            if run is not None:
                self._run_folders[run.id] = folder / name
                runs.append(run)
        return sorted(runs, key=lambda r: (r.start_time or 0, r.id))

    def run_data(self, run: SourceRun) -> SourceRunData:
        """Raises ``OSError`` when a file cannot be read: the run stays incomplete."""
        folder = self._run_folders[run.id]
        data = SourceRunData()
        data.params.update(self._readable(folder / "params", "param", data.problems))
        data.tags.update(self._readable(folder / "tags", "tag", data.problems))
        for key, text in self._readable(folder / "metrics", "metric", data.problems):
            for number, line in enumerate(text.splitlines(), 1):
                point = _point(key, line)
                if point is None:
                    what = f"metric {key!r} line {number}"
                    data.problems.append(("metric point", what, f"malformed: {line!r}"))
                else:
                    data.metrics.append(point)
        return data

    def close(self) -> None:
        pass

    @property
    def experiment_folders(self) -> list[Path]:
        """Every experiment's folder, deleted ones included."""
        return list(self._candidates)

    def _experiment_folders(self) -> list[Path]:
        entries = [
            (self.root / name, kind)
            for name, kind in self.folder.entries(self.root)
            if name not in _NOT_EXPERIMENTS
        ]
        trash = self.root / TRASH
        try:
            entries += [(trash / name, kind) for name, kind in self.folder.entries(trash)]
        except Refused as exc:
            self._problem("experiment", TRASH, exc.reason)
        found = []
        for path, kind in entries:
            meta = self._kind(path / META) if kind == "folder" else None
            if meta == "file":
                found.append(path)
            elif kind == LINK:
                self._problem("experiment", self._shown(path), LINK)
            elif meta is not None:
                self._problem("experiment", self._shown(path), f"{META}: {meta}")
        return found

    def _run(self, folder: Path, experiment_id: str, where: str) -> SourceRun | None:
        meta = self._yaml(folder / META, "run", where)
        if meta is None:
            return None
        if not isinstance(meta, dict):
            meta = {}
        if str(meta.get("run_id") or meta.get("run_uuid")) != folder.name:  # as MLflow checks
            self._problem("run", where, f"{META} does not name run {folder.name!r}")
            return None

        def field(key: str, convert: Callable[[object], T | None]) -> T | None:
            try:
                return convert(meta.get(key))
            except ValueError as exc:
                self._problem(key, f"run {folder.name}", str(exc))
                return None

        status = meta.get("status", 1)
        uri = field("artifact_uri", text_or_none) or None
        return SourceRun(
            id=folder.name,
            experiment_id=experiment_id,
            name=field("run_name", text_or_none) or self._text(folder / "tags" / "mlflow.runName"),
            status=_STATUSES.get(status, str(status)) if isinstance(status, int) else str(status),
            start_time=field("start_time", whole_number),
            end_time=field("end_time", whole_number),
            user=field("user_id", text_or_none) or None,
            deleted=meta.get("lifecycle_stage") == "deleted",
            artifact_uri=uri,
            parent_id=self._text(folder / "tags" / PARENT_TAG),
            local_artifacts=_own_artifacts(folder, uri),
        )

    def _readable(
        self, folder: Path, kind: str, problems: list[tuple[str, str, str]]
    ) -> Iterator[tuple[str, str]]:
        """(key, text) of each file under ``folder``; each one refused goes to ``problems``."""
        try:
            listed = list(self.folder.files(folder))
        except Refused as exc:
            problems.append((kind, f"{folder.name}/", exc.reason))
            return
        for key, path, why in listed:
            try:
                if why is not None:
                    raise Refused(why)
                yield key, self.folder.read_bytes(path).decode("utf-8")
            except Refused as exc:
                problems.append((kind, key, exc.reason))
            except UnicodeDecodeError:
                problems.append((kind, key, "not UTF-8 text"))

    def _kind(self, path: Path) -> str | None:
        try:
            return self.folder.kind(path)
        except Refused as exc:  # a folder on the way made a link since it was listed
            return exc.reason

    def _text(self, path: Path) -> str | None:
        """A file that may be missing; a refused one is reported where its folder is read."""
        try:
            return self.folder.read_bytes(path).decode("utf-8")
        except (Refused, OSError, UnicodeDecodeError):
            return None

    def _yaml(self, path: Path, kind: str, where: str) -> Any:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's: ten times faster
        try:
            return yaml.load(self.folder.read_bytes(path), Loader=loader)
        except Refused as exc:
            self._problem(kind, where, f"{META}: {exc.reason}")
        except (OSError, yaml.YAMLError) as exc:
            self._problem(kind, where, f"{META} cannot be read: {type(exc).__name__}")
        return None

    def _problem(self, kind: str, subject: str, reason: str) -> None:
        self.problems.append(Skipped(kind, subject, reason))

    def _shown(self, folder: Path) -> str:
        return folder.relative_to(self.root).as_posix()


def _own_artifacts(folder: Path, uri: str | None) -> Path | None:
    """The run's ``artifacts`` folder when ``uri`` is the store's default location for it
    (``…/<experiment>/<run>/artifacts``), wherever the store was when the run was written: a
    moved store, or an experiment moved to ``.trash``, keeps the old absolute URI."""
    if uri is not None:
        try:
            tail = local_path(uri).parts[-3:] if is_local(uri) else ()
        except InvalidInput:  # another host's file:// URI
            return None
        if tail != (folder.parent.name, folder.name, ARTIFACTS):
            return None
    return folder / ARTIFACTS


def _point(key: str, line: str) -> SourcePoint | None:
    # "timestamp value", "timestamp value step" or, with a dataset, 5 fields (as MLflow reads).
    parts = line.strip().split(" ")
    if len(parts) not in (2, 3, 5):
        return None
    try:
        timestamp, value = int(parts[0]), float(parts[1])
        step = int(parts[2]) if len(parts) >= 3 else 0
    except ValueError:
        return None
    return SourcePoint(key, math.nan if math.isnan(value) else value, step, timestamp)
