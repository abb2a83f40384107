"""A run's MLflow artifact files copied into its gnomon run, byte for byte.

Artifacts are read only from inside an allowed folder: a file store's own folder, and the
folder ``--artifacts-root`` names (a SQL store has no folder of its own, so without it its local
artifacts are not read). A location outside them is listed in the summary with the reason,
whatever the store says, and so is every symbolic link, pipe or device below them: nothing is
followed or read outside (``import_confined.py``).

Small files travel together through ``log_files`` (one check of the run for many files); a
large one is streamed on its own through ``put_artifact``. A key gnomon refuses is listed in
the summary while the other files are copied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from gnomon._types import Scope
from gnomon.artifacts.keys import clean_key
from gnomon.errors import InvalidInput, PayloadTooLarge
from gnomon.mlflow_compat.import_confined import ConfinedFolder, Refused
from gnomon.mlflow_compat.import_sources import SourceRun, is_local, local_path
from gnomon.mlflow_compat.import_summary import ImportSummary
from gnomon.mlflow_compat.import_values import refusal
from gnomon.tracking.service import TrackingService

# Artifact files sent together by one log_files call; a larger file is streamed on its own.
FILES_BYTES = 16 * 2**20
NO_ROOT = "give --artifacts-root to copy local artifacts"


@dataclass(slots=True)
class ArtifactPlan:
    """The files of one run to copy, and the allowed folder they are read through."""

    folder: ConfinedFolder | None = None
    files: list[tuple[str, Path]] = field(default_factory=list)  # (key, path)


class ArtifactCopier:
    def __init__(
        self,
        service: TrackingService,
        scope: Scope,
        summary: ImportSummary,
        store: ConfinedFolder | None,
        artifacts_root: ConfinedFolder | None,
    ) -> None:
        self.service, self.scope, self.summary = service, scope, summary
        self.store = store
        self.roots = [f for f in (store, artifacts_root) if f is not None]
        self._outside = _outside_reason(store, artifacts_root)

    def plan(self, run: SourceRun, subject: str) -> ArtifactPlan:
        """The artifacts of ``run`` gnomon takes; each one left out is in the summary."""
        located = self.locate(run)
        if located is None:
            return ArtifactPlan()
        if isinstance(located, str):
            self.summary.skip("artifacts", f"{subject}: {run.artifact_uri}", located)
            return ArtifactPlan()
        folder, path = located
        try:
            listed = list(folder.files(path))
        except Refused as exc:
            self.summary.skip("artifacts", f"{subject}: {path}", exc.reason)
            return ArtifactPlan()
        plan = ArtifactPlan(folder)
        for key, file, why in listed:
            why = why or refusal(clean_key, key)
            if why is None:
                plan.files.append((key, file))
            else:
                self.summary.skip("artifact", f"{subject}: {key}", why)
        return plan

    def copy(self, run_id: str, plan: ArtifactPlan, subject: str) -> None:
        """Raises ``OSError`` when a file cannot be read: the run stays incomplete."""
        folder = plan.folder
        if folder is None:
            return
        group: dict[str, bytes] = {}
        size = 0
        for key, path in plan.files:
            try:
                with folder.pinned(path) as (local, length):
                    if length > FILES_BYTES:
                        self._put_large(run_id, key, local, length, subject)
                        continue
                    if group and size + length > FILES_BYTES:
                        self._put_group(run_id, group)
                        group, size = {}, 0
                    group[key] = local.read_bytes()
                    size += length
            except Refused as exc:  # changed since it was listed
                self.summary.skip("artifact", f"{subject}: {key}", exc.reason)
        if group:
            self._put_group(run_id, group)

    def locate(self, run: SourceRun) -> tuple[ConfinedFolder, Path] | str | None:
        """The allowed folder and path of ``run``'s artifacts, ``None`` when it has none, or
        why they are not read."""
        if run.local_artifacts is not None and self.store is not None:
            return self.store, run.local_artifacts
        uri = run.artifact_uri
        if not uri:
            return None  # MLflow makes the folder only when something is logged
        return self.confine(uri)

    def confine(self, uri: str) -> tuple[ConfinedFolder, Path] | str:
        """The allowed folder holding the local ``uri`` and its path, or why it is not read."""
        if not is_local(uri):
            scheme = urlparse(uri).scheme.lower()
            return f"artifacts stored at {scheme}:// are not copied; only local folders are read"
        try:
            path = local_path(uri)
        except InvalidInput as exc:
            return exc.message
        for root in self.roots:
            if root.contains(path):
                return root, path
        return self._outside

    def _put_group(self, run_id: str, group: dict[str, bytes]) -> None:
        self.service.log_files(self.scope, run_id, group)
        self.summary.artifact_files += len(group)
        self.summary.artifact_bytes += sum(map(len, group.values()))

    def _put_large(self, run_id: str, key: str, path: Path, size: int, subject: str) -> None:
        try:
            self.service.put_artifact(self.scope, run_id, key, path)
        except PayloadTooLarge as exc:  # over the server's GNOMON_MAX_ARTIFACT_BYTES
            self.summary.skip("artifact", f"{subject}: {key}", exc.message)
            return
        self.summary.artifact_files += 1
        self.summary.artifact_bytes += size


def _outside_reason(store: ConfinedFolder | None, artifacts_root: ConfinedFolder | None) -> str:
    if artifacts_root is None:
        return NO_ROOT if store is None else f"outside the store folder; {NO_ROOT}"
    where = "--artifacts-root" if store is None else "the store folder and --artifacts-root"
    return f"outside {where}; not read"
