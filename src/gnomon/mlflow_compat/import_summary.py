"""What an MLflow import did: counts, and each thing it left out with the reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Skipped:
    """One thing left out: ``kind`` (param, metric, tag, artifact, run, …), ``subject`` (which
    one, naming its MLflow run or experiment) and ``reason``."""

    kind: str
    subject: str
    reason: str


@dataclass(slots=True)
class ImportSummary:
    """Counts of what this import wrote, and what it left out.

    ``params``, ``tags`` and ``metric_points`` count what was sent: a run finished after an
    interruption sends its values again, and the store keeps each once. ``run_ids`` maps
    every MLflow run id of the source that is in gnomon now (imported before or now) to its
    gnomon run id, for a later registry import to find a model version's run.
    """

    source: str
    experiments_created: int = 0
    experiments_matched: int = 0
    runs_imported: int = 0
    runs_resumed: int = 0  # left incomplete by an interrupted import, finished now
    runs_already_imported: int = 0
    params: int = 0
    metric_points: int = 0
    tags: int = 0
    artifact_files: int = 0
    artifact_bytes: int = 0
    models_created: int = 0  # registered models
    models_matched: int = 0  # by name, already in gnomon
    versions_imported: int = 0
    versions_already_imported: int = 0
    aliases_set: int = 0
    model_files: int = 0  # copied into the versions' logged models
    model_bytes: int = 0
    incomplete: list[Skipped] = field(default_factory=list)  # runs to finish by running again
    skipped: list[Skipped] = field(default_factory=list)
    run_ids: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.incomplete

    def skip(self, kind: str, subject: str, reason: str) -> None:
        self.skipped.append(Skipped(kind, subject, reason))

    def skipped_by_reason(self) -> list[tuple[str, str, int, str]]:
        """(kind, reason, count, first subject), most frequent first: 10,000 runs whose
        artifacts are on S3 make one line."""
        counts = Counter((s.kind, s.reason) for s in self.skipped)
        first: dict[tuple[str, str], str] = {}
        for s in self.skipped:
            first.setdefault((s.kind, s.reason), s.subject)
        return [(k, r, n, first[(k, r)]) for (k, r), n in counts.most_common()]
