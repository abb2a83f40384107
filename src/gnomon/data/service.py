"""DatasetService: versions made from local files, read back, compared and restored."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gnomon._types import Scope
from gnomon.artifacts import ArtifactStore
from gnomon.data.entities import (
    TABLE_SUFFIXES,
    AddResult,
    Dataset,
    DatasetDiff,
    DatasetVersion,
    FileChange,
    FileEntry,
    Manifest,
    ModelUse,
    RunInput,
    TableChange,
    UsedBy,
    parse_ref,
)
from gnomon.data.hashing import DigestCache
from gnomon.data.manifests import build_manifest
from gnomon.data.objects import ObjectStore
from gnomon.data.scan import scan
from gnomon.data.sql import SqlDatasetStore
from gnomon.data.tabular import table_info
from gnomon.errors import InvalidInput
from gnomon.tracking.validation import check_name

Progress = Callable[[int, int | None], None]
# (scope, run ids) -> the registered model versions made by those runs: the registry, built
# after this capability, provides it (see registry/wiring.py); without it none are listed.
ModelsOfRuns = Callable[[Scope, Sequence[str]], list[ModelUse]]
CONTEXT_LENGTH = 64
MAX_TABLE_DIFFS = 50  # changed tables whose rows and columns a diff reads
_FETCHERS = 4


class DatasetService:
    def __init__(
        self, store: SqlDatasetStore, artifacts: ArtifactStore, digest_cache: DigestCache
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.digest_cache = digest_cache
        self.models_of_runs: ModelsOfRuns | None = None
        # Builds the capabilities after this one (the registry sets models_of_runs): they
        # are built lazily, and used_by may come first.
        self.build_later: Callable[[], object] | None = None

    def objects(self, scope: Scope) -> ObjectStore:
        return ObjectStore(self.artifacts, scope.workspace)

    def add(
        self,
        scope: Scope,
        path: Path,
        name: str,
        *,
        message: str = "",
        source: Mapping[str, str] | None = None,
        run_id: str | None = None,
        on_progress: Progress | None = None,
    ) -> AddResult:
        """Version the file or folder at ``path`` as dataset ``name``; an unchanged content
        makes no new version (the latest is returned with ``created`` false)."""
        name = check_name("dataset", name)
        found = scan(Path(path), self.digest_cache, on_progress)
        assert found is not None  # scan reads what the cache lacks
        entries = [FileEntry(f.path, f.digest, f.size) for f in found.files]
        manifest = build_manifest(entries)
        if self.store.latest_digest(scope, name) == manifest.digest:
            return AddResult(self.store.version(scope, name, None), False, 0, 0)
        first_copy: dict[str, tuple[Path, int]] = {}
        for local in found.files:
            first_copy.setdefault(local.digest, (local.absolute, local.size))
        stored = self.store.stored_objects(scope, first_copy)
        new = [
            (p, digest, size) for digest, (p, size) in first_copy.items() if digest not in stored
        ]
        objects = self.objects(scope)
        objects.put_objects(new, on_progress)
        objects.put_manifest(manifest)
        source = dict(source or {"path": str(Path(path).resolve())})
        version, created = self.store.record_version(
            scope,
            name,
            manifest,
            message=message,
            source=source,
            run_id=run_id,
            objects=[(digest, size) for _, digest, size in new],
        )
        if not created:  # someone versioned the same content meanwhile
            return AddResult(version, False, 0, 0)
        return AddResult(version, True, len(new), sum(size for _, _, size in new))

    def list(self, scope: Scope) -> list[Dataset]:
        return self.store.list(scope)

    def get(self, scope: Scope, name: str) -> Dataset:
        return self.store.get(scope, name)

    def versions(self, scope: Scope, name: str) -> list[DatasetVersion]:
        return self.store.versions(scope, name)

    def version(self, scope: Scope, ref: str) -> DatasetVersion:
        name, number = parse_ref(ref)
        return self.store.version(scope, name, number)

    def manifest(self, scope: Scope, ref: str) -> Manifest:
        return self.objects(scope).manifest(self.version(scope, ref).manifest_digest)

    def checkout(
        self, scope: Scope, ref: str, dest: Path, on_progress: Progress | None = None
    ) -> Path:
        """Restore version ``ref`` into the new folder ``dest`` (absent or empty), byte for
        byte; nothing is left behind when it fails."""
        dest = Path(dest)
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            raise InvalidInput(
                f"'{dest}' exists and is not an empty folder: check out into a new one",
                {"path": str(dest)},
            )
        manifest = self.manifest(scope, ref)
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.gnomon-", dir=dest.parent))
        try:
            self._fetch_all(scope, manifest, staging, on_progress)
            if dest.exists():
                dest.rmdir()
            os.rename(staging, dest)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return dest

    def _fetch_all(
        self, scope: Scope, manifest: Manifest, into: Path, on_progress: Progress | None
    ) -> None:
        objects = self.objects(scope)
        for folder in {str(Path(entry.path).parent) for entry in manifest.files}:
            (into / folder).mkdir(parents=True, exist_ok=True)
        total, done = manifest.bytes, 0

        def one(entry: FileEntry) -> int:
            objects.fetch(entry, into / entry.path)
            return entry.size

        with ThreadPoolExecutor(_FETCHERS) as pool:
            for size in pool.map(one, manifest.files):
                done += size
                if on_progress is not None:
                    on_progress(done, total)

    def diff(self, scope: Scope, before: str, after: str) -> DatasetDiff:
        """Files added, removed and changed from ``before`` to ``after``; for changed Parquet
        and CSV files also their rows and columns (the first ``MAX_TABLE_DIFFS``)."""
        old = self.manifest(scope, before).by_path()
        new = self.manifest(scope, after).by_path()
        added = tuple(FileChange(p, None, new[p]) for p in sorted(new.keys() - old.keys()))
        removed = tuple(FileChange(p, old[p], None) for p in sorted(old.keys() - new.keys()))
        changed = tuple(
            FileChange(p, old[p], new[p])
            for p in sorted(old.keys() & new.keys())
            if old[p].digest != new[p].digest
        )
        tables = [c for c in changed if c.path.lower().endswith(TABLE_SUFFIXES)]
        return DatasetDiff(
            self.version(scope, before).ref,
            self.version(scope, after).ref,
            added,
            removed,
            changed,
            tuple(self._table_change(scope, c) for c in tables[:MAX_TABLE_DIFFS]),
        )

    def _table_change(self, scope: Scope, change: FileChange) -> TableChange:
        assert change.old is not None and change.new is not None
        objects = self.objects(scope)
        with tempfile.TemporaryDirectory(prefix="gnomon-diff-") as folder:
            suffix = Path(change.path).suffix
            infos = []
            for index, entry in enumerate((change.old, change.new)):
                local = Path(folder) / f"{index}{suffix}"
                objects.fetch(entry, local)
                infos.append(table_info(local, change.path))
        before, after = infos
        return TableChange(
            change.path,
            before.rows,
            after.rows,
            columns_added=tuple(c for c in after.columns if c not in before.columns),
            columns_removed=tuple(c for c in before.columns if c not in after.columns),
            types_changed=tuple(
                (c, before.columns[c], after.columns[c])
                for c in after.columns
                if c in before.columns and before.columns[c] != after.columns[c]
            ),
        )

    def log_input(
        self, scope: Scope, run_id: str, ref: str, context: str = "input"
    ) -> DatasetVersion:
        """Record that ``run_id`` used version ``ref`` (the latest when none is named)."""
        context = _context(context)
        name, number = parse_ref(ref)
        return self.store.record_input(scope, run_id, name, number or 0, context)

    def inputs(self, scope: Scope, run_id: str) -> list[RunInput]:
        return self.store.inputs_of(scope, run_id)

    def used_by(self, scope: Scope, ref: str) -> UsedBy:
        """The runs that used version ``ref``, and the model versions those runs made."""
        version = self.version(scope, ref)
        runs = self.store.runs_using(scope, version.dataset, version.version)
        models: list[ModelUse] = []
        if self.models_of_runs is None and self.build_later is not None:
            self.build_later()
        if self.models_of_runs is not None and runs:
            models = self.models_of_runs(scope, [run.run_id for run in runs])
        return UsedBy(version.ref, tuple(runs), tuple(models))


def _context(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > CONTEXT_LENGTH:
        raise InvalidInput(f"an input's context is 1 to {CONTEXT_LENGTH} characters, got {value!r}")
    if not value.replace("_", "").replace("-", "").isalnum():
        raise InvalidInput(f"an input's context is letters, digits, '-' and '_', got {value!r}")
    return value
