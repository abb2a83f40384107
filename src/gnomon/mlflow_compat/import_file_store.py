"""Reading an MLflow file store (``./mlruns``): ``meta.yaml`` per experiment and run, one
file per param and tag, one file of ``timestamp value step`` lines per metric.

Deleted experiments live under ``.trash/``; a deleted run stays in its experiment's folder
with ``lifecycle_stage: deleted``. Keys holding ``/`` are nested folders. Files are read as
UTF-8 bytes, exactly: MLflow writes them without a trailing newline.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from gnomon.errors import InvalidInput, NotFound
from gnomon.mlflow_compat.import_sources import (
    PARENT_TAG,
    SourceExperiment,
    SourcePoint,
    SourceRun,
    SourceRunData,
)

TRASH = ".trash"
META = "meta.yaml"
# Folders of an experiment that are not runs, and of the root that are not experiments.
_NOT_RUNS = frozenset({"tags", "datasets", "traces", "models"})
_NOT_EXPERIMENTS = frozenset({TRASH, "models"})  # models/: the registry's file store
# MLflow's file store keeps a run's status as the proto enum's number.
_STATUSES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}


class FileStoreSource:
    """An MLflow file store folder, read-only."""

    def __init__(self, root: Path) -> None:
        if root.is_file():
            raise InvalidInput(
                f"{str(root)!r} is a file: for a SQLite store, write sqlite:///{root}"
            )
        if not root.is_dir():
            raise NotFound(f"MLflow store folder {str(root)!r} not found")
        self.root = root.resolve()
        self.uri = self.root.as_uri()
        self._folders: dict[str, Path] = {}  # experiment id -> its folder
        self._run_folders: dict[str, Path] = {}
        if not any(self._experiment_folders()):
            raise InvalidInput(
                f"{str(root)!r} is not an MLflow file store: no experiment folder with a {META}"
            )

    def experiments(self) -> list[SourceExperiment]:
        found = []
        for folder in self._experiment_folders():
            meta = _yaml(folder / META)
            if not isinstance(meta, dict) or "experiment_id" not in meta or not meta.get("name"):
                continue  # a malformed folder: MLflow itself skips it with a warning
            experiment_id = str(meta["experiment_id"])
            self._folders[experiment_id] = folder
            deleted = folder.parent.name == TRASH or meta.get("lifecycle_stage") == "deleted"
            tags = _text_files(folder / "tags")
            found.append(SourceExperiment(experiment_id, str(meta["name"]), deleted, tags))
        return found

    def runs(self, experiment: SourceExperiment) -> list[SourceRun]:
        folder = self._folders[experiment.id]
        runs = []
        for run_folder in sorted(p for p in folder.iterdir() if p.is_dir()):
            if run_folder.name in _NOT_RUNS or not (run_folder / META).is_file():
                continue
            run = _run(run_folder, experiment.id)
            if run is not None:
                self._run_folders[run.id] = run_folder
                runs.append(run)
        return sorted(runs, key=lambda r: (r.start_time or 0, r.id))

    def run_data(self, run: SourceRun) -> SourceRunData:
        folder = self._run_folders[run.id]
        data = SourceRunData(
            params=_text_files(folder / "params"), tags=_text_files(folder / "tags")
        )
        metrics = folder / "metrics"
        for key, path in _files(metrics):
            for number, line in enumerate(path.read_bytes().decode("utf-8").splitlines(), 1):
                point = _point(key, line)
                if point is None:
                    data.problems.append((f"metric {key!r} line {number}", f"malformed: {line!r}"))
                else:
                    data.metrics.append(point)
        return data

    def close(self) -> None:
        pass

    def _experiment_folders(self) -> list[Path]:
        trash = self.root / TRASH
        candidates = [p for p in sorted(self.root.iterdir()) if p.name not in _NOT_EXPERIMENTS]
        if trash.is_dir():
            candidates += sorted(trash.iterdir())
        return [p for p in candidates if p.is_dir() and (p / META).is_file()]


def _run(folder: Path, experiment_id: str) -> SourceRun | None:
    meta = _yaml(folder / META)
    if not isinstance(meta, dict):
        return None
    run_id = str(meta.get("run_id") or meta.get("run_uuid") or "")
    if run_id != folder.name:
        return None  # not a run folder (MLflow checks the same)
    status = meta.get("status", 1)
    parent = folder / "tags" / PARENT_TAG
    return SourceRun(
        id=run_id,
        experiment_id=experiment_id,
        name=meta.get("run_name") or _read_text(folder / "tags" / "mlflow.runName"),
        status=_STATUSES.get(status, "RUNNING") if isinstance(status, int) else str(status),
        start_time=_int_or_none(meta.get("start_time")),
        end_time=_int_or_none(meta.get("end_time")),
        user=meta.get("user_id") or None,
        deleted=meta.get("lifecycle_stage") == "deleted",
        artifact_uri=meta.get("artifact_uri") or None,
        parent_id=_read_text(parent) if parent.is_file() else None,
        local_artifacts=folder / "artifacts",
    )


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


def _files(folder: Path) -> list[tuple[str, Path]]:
    if not folder.is_dir():
        return []
    return [(p.relative_to(folder).as_posix(), p) for p in sorted(folder.rglob("*")) if p.is_file()]


def _text_files(folder: Path) -> dict[str, str]:
    return {key: path.read_bytes().decode("utf-8") for key, path in _files(folder)}


def _read_text(path: Path) -> str | None:
    return path.read_bytes().decode("utf-8") if path.is_file() else None


def _yaml(path: Path) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's: ten times faster
    try:
        return yaml.load(path.read_bytes(), Loader=loader)
    except (OSError, yaml.YAMLError):
        return None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
