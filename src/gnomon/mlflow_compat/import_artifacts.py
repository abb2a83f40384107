"""A run's MLflow artifact files copied into its gnomon run, byte for byte.

Small files travel together through ``log_files`` (one check of the run for many files); a
large one is streamed from disk on its own through ``put_artifact``. A symbolic link is
never followed, nor a pipe or a device read, and a key gnomon refuses is listed in the
summary while the other files are copied.
"""

from __future__ import annotations

from pathlib import Path

from gnomon._types import Scope
from gnomon.artifacts.keys import clean_key
from gnomon.errors import PayloadTooLarge
from gnomon.mlflow_compat.import_sources import SourceRun, artifact_files, artifact_folder
from gnomon.mlflow_compat.import_summary import ImportSummary
from gnomon.mlflow_compat.import_values import refusal
from gnomon.tracking.service import TrackingService

# Artifact files sent together by one log_files call; a larger file is streamed on its own.
FILES_BYTES = 16 * 2**20


class ArtifactCopier:
    def __init__(self, service: TrackingService, scope: Scope, summary: ImportSummary) -> None:
        self.service, self.scope, self.summary = service, scope, summary

    def plan(self, run: SourceRun, subject: str) -> list[tuple[str, Path]]:
        """(key, local file) of each artifact of ``run`` gnomon takes."""
        folder = artifact_folder(run)
        if folder is None:
            return []
        if isinstance(folder, str):
            self.summary.skip("artifacts", subject, folder)
            return []
        files = []
        for key, path in artifact_files(folder):
            why = _not_copied(path) or refusal(clean_key, key)
            if why is None:
                files.append((key, path))
            else:
                self.summary.skip("artifact", f"{subject}: {key}", why)
        return files

    def copy(self, run_id: str, files: list[tuple[str, Path]], subject: str) -> None:
        """Raises ``OSError`` when a file cannot be read: the run stays incomplete."""
        group: dict[str, bytes] = {}
        size = 0
        for key, path in files:
            length = path.stat().st_size
            if length > FILES_BYTES:
                self._put_large(run_id, key, path, subject)
                continue
            if group and size + length > FILES_BYTES:
                self._put_group(run_id, group)
                group, size = {}, 0
            group[key] = path.read_bytes()
            size += length
        if group:
            self._put_group(run_id, group)

    def _put_group(self, run_id: str, group: dict[str, bytes]) -> None:
        self.service.log_files(self.scope, run_id, group)
        self.summary.artifact_files += len(group)
        self.summary.artifact_bytes += sum(map(len, group.values()))

    def _put_large(self, run_id: str, key: str, path: Path, subject: str) -> None:
        try:
            self.service.put_artifact(self.scope, run_id, key, path)
        except PayloadTooLarge as exc:  # over the server's GNOMON_MAX_ARTIFACT_BYTES
            self.summary.skip("artifact", f"{subject}: {key}", exc.message)
            return
        self.summary.artifact_files += 1
        self.summary.artifact_bytes += path.stat().st_size


def _not_copied(path: Path) -> str | None:
    if path.is_symlink():
        return "a symbolic link; not followed"
    if not path.is_file():  # a pipe or a device would block the read, or never end
        return "not a regular file"
    return None
