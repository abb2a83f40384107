"""DatasetService: versions made from local files, read back, compared and restored."""

from __future__ import annotations

import os
import stat as stat_module
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon._types import Scope
from gnomon.artifacts import ArtifactStore
from gnomon.data.access import (
    DatasetAccess,
    DatasetRole,
    check_use,
    checked_list,
    is_admin,
    may_change_access,
    not_found,
)
from gnomon.data.collect import DEFAULT_GRACE_S, Collected, collect
from gnomon.data.described import Described, describe, local_columns, read_local
from gnomon.data.entities import (
    TABLE_SUFFIXES,
    AddResult,
    Dataset,
    DatasetDiff,
    DatasetKind,
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
from gnomon.data.entries import check_entries
from gnomon.data.hashing import DigestCache, digest_file, stat_key
from gnomon.data.manifests import build_manifest
from gnomon.data.model_uses import ModelsOfRuns
from gnomon.data.objects import ObjectStore, digest_hex
from gnomon.data.restore import check_destination, restore
from gnomon.data.scan import scan
from gnomon.data.schema import DatasetSchema, edited
from gnomon.data.sql import SqlDatasetStore
from gnomon.data.tabular import table_info
from gnomon.data.validation import Thresholds, ValidationReport, validate
from gnomon.errors import AlreadyExists, Conflict, InvalidInput, NotFound, PermissionDenied
from gnomon.tracking.validation import check_name

if TYPE_CHECKING:
    import pyarrow as pa

Progress = Callable[[int, int | None], None]
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
        # The registry's answer (model_uses.py), found when used_by asks; without one, none.
        self.find_models_of_runs: Callable[[], ModelsOfRuns | None] | None = None
        # The server's copy restricts datasets by their access lists (data/access.py);
        # embedded mode has no users to restrict.
        self.restricted = False

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
        self._check(scope, name, write=True)  # before reading a byte
        found = scan(Path(path), self.digest_cache, on_progress)
        assert found is not None  # scan reads what the cache lacks
        entries = [FileEntry(f.path, f.digest, f.size) for f in found.files]
        local = {f.path: f.absolute for f in found.files}
        scanned = [(f.path, f.absolute, f.key) for f in found.files]

        def still_as_scanned() -> None:
            # A file written (or swapped for a link) after its stat was taken may have been
            # hashed or copied half old, half new: nothing of such a version is recorded.
            changed = [shown for shown, where, key in scanned if _stat_key(where) != key]
            if changed:
                raise Conflict(
                    f"{len(changed)} files changed while they were versioned (first: "
                    f"{changed[0]!r}); nothing was recorded: run add again once they are still",
                    {"path": changed[0]},
                )

        return self.add_manifest(
            scope,
            name,
            entries,
            local_files=local,
            message=message,
            source=source or {"path": str(Path(path).resolve())},
            run_id=run_id,
            on_progress=on_progress,
            before_recording=still_as_scanned,
        )

    def add_manifest(
        self,
        scope: Scope,
        name: str,
        entries: Sequence[FileEntry],
        *,
        local_files: Mapping[str, Path] | None = None,
        message: str = "",
        source: Mapping[str, str] | None = None,
        run_id: str | None = None,
        on_progress: Progress | None = None,
        before_recording: Callable[[], None] | None = None,
    ) -> AddResult:
        """Version ``entries`` as dataset ``name``. ``local_files`` (by path) hold their
        content here; without them (a server, after the uploads) every object must already
        be stored with its size. ``before_recording`` runs once the objects are stored; it
        raises to record nothing (objects it stored that no version names are removed).

        Raises:
            InvalidInput: a bad name or entry; an object not stored, or of another size.
        """
        name = check_name("dataset", name)
        self._check(scope, name, write=True)
        # A scan checked its own paths; what a caller sends is checked here.
        manifest = build_manifest(entries if local_files else check_entries(entries))
        if self.store.latest_digest(scope, name) == manifest.digest:
            return AddResult(self.version(scope, name), False, 0, 0)
        if local_files is None:
            self._check_stored(scope, manifest)
        described = None
        if manifest.kind is DatasetKind.TABLE:  # a file that does not parse refuses the version
            described = self._describe(scope, name, manifest, local_files)
        new: list[tuple[Path, str, int]] = []
        if local_files is not None:
            first_copy: dict[str, tuple[Path, int]] = {}
            for entry in manifest.files:
                first_copy.setdefault(entry.digest, (local_files[entry.path], entry.size))
            stored = self.store.reuse_objects(scope, first_copy)  # kept from gc meanwhile
            new = [(p, d, size) for d, (p, size) in first_copy.items() if d not in stored]
        objects = self.objects(scope)
        objects.put_objects(new, on_progress)
        objects.put_manifest(manifest)
        if described is not None:
            objects.put_stats(manifest.digest, described.to_dict())
        if before_recording is not None:
            try:
                before_recording()
            except BaseException:
                recorded = self.store.stored_objects(scope, [d for _, d, _ in new])
                for _, digest, _ in new:
                    if digest not in recorded:
                        objects.store.delete(objects.object_key(digest))
                raise
        record = partial(
            self.store.record_version,
            scope,
            name,
            manifest,
            message=message,
            source=dict(source or {}),
            run_id=run_id,
            objects=[(digest, size) for _, digest, size in new],
        )
        try:
            version, created = record()
        except AlreadyExists:  # another add made the dataset or took the number: go after it
            version, created = record()
        if not created:  # someone versioned the same content meanwhile
            return AddResult(version, False, 0, 0)
        if described is not None and described.validation is None:
            self._adopt_schema(scope, name, described.schema)
        validation = described.validation if described is not None else None
        return AddResult(version, True, len(new), sum(size for _, _, size in new), validation)

    def _describe(
        self,
        scope: Scope,
        name: str,
        manifest: Manifest,
        local_files: Mapping[str, Path] | None,
    ) -> Described:
        current = self._current_schema(scope, name)
        if local_files is not None:
            columns = local_columns([(local_files[e.path], e.path) for e in manifest.files])
            return describe(columns, current)
        objects = self.objects(scope)
        with tempfile.TemporaryDirectory(prefix="gnomon-describe-") as folder:
            files = []
            for index, entry in enumerate(manifest.files):
                local = Path(folder) / f"{index}{Path(entry.path).suffix.lower()}"
                objects.fetch(entry, local)
                files.append((local, entry.path))
            return describe(local_columns(files), current)

    def _check_stored(self, scope: Scope, manifest: Manifest) -> None:
        sizes = self.store.object_sizes(scope, (e.digest for e in manifest.files))
        for entry in manifest.files:
            if sizes.get(entry.digest) != entry.size:
                raise InvalidInput(
                    f"the content of {entry.path!r} ({entry.digest}, {entry.size} bytes) is "
                    "not stored: upload it first",
                    {"path": entry.path, "digest": entry.digest},
                )

    # -- objects uploaded through a server -------------------------------------------------

    def missing(self, scope: Scope, digests: Sequence[str]) -> list[str]:
        """Which of ``digests`` the workspace does not store yet (in the order given)."""
        for digest in digests:
            digest_hex(digest)  # refuses what is not a digest
        stored = self.store.reuse_objects(scope, digests)  # kept from gc while the add runs
        return [d for d in dict.fromkeys(digests) if d not in stored]

    def put_object(self, scope: Scope, digest: str, local: Path) -> None:
        """Store the file ``local`` as object ``digest``, once its content is checked.

        Raises:
            InvalidInput: the content's digest is not ``digest`` (nothing is stored).
        """
        digest_hex(digest)
        found = digest_file(local)
        if found != digest:
            raise InvalidInput(
                f"the uploaded content's digest is {found}, not {digest}: nothing was stored",
                {"digest": digest},
            )
        size = local.stat().st_size
        if digest not in self.store.reuse_objects(scope, [digest]):
            self.objects(scope).put_objects([(local, digest, size)])
            self.store.add_object(scope, digest, size)

    def collect(
        self,
        scope: Scope,
        *,
        grace_s: float = DEFAULT_GRACE_S,
        dry_run: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> Collected:
        """Removes the workspace's content objects that no version names (``collect.py``).

        Raises:
            InvalidInput: a grace period out of range.
        """
        return collect(
            self.store, self.objects(scope), scope,
            grace_s=grace_s, dry_run=dry_run, on_progress=on_progress,
        )  # fmt: skip

    # -- who may use a dataset (server mode) -----------------------------------------------

    def _check(self, scope: Scope, name: str, *, write: bool = False) -> None:
        if not self.restricted:
            return
        found = self.store.access(scope, name)
        if found is not None:  # an unknown dataset: the store says NotFound (or add makes it)
            check_use(scope, name, found[0], write=write)

    def access(self, scope: Scope, name: str) -> DatasetAccess:
        """Who may use dataset ``name``: nobody listed means the workspace's roles decide."""
        self._check(scope, name)
        found = self.store.access(scope, name)
        if found is None:
            raise not_found(name)
        return DatasetAccess.of(name, found[0])

    def set_access(
        self, scope: Scope, name: str, readers: Sequence[str], writers: Sequence[str]
    ) -> DatasetAccess:
        """Restrict dataset ``name`` to ``readers`` and ``writers`` (both empty: open it).

        Raises:
            PermissionDenied: the caller is neither a workspace admin nor one of its
                writers (nor, while it is open, its creator); or would drop themselves.
        """
        self._check(scope, name)
        found = self.store.access(scope, name)
        if found is None:
            raise not_found(name)
        listed = checked_list(list(readers), list(writers))
        if self.restricted and not may_change_access(scope, found[0], found[1]):
            raise PermissionDenied(
                f"only the workspace's admins and the writers of {name!r} may change who uses it"
            )
        keeps_own = listed.get(scope.principal) is DatasetRole.WRITER
        if self.restricted and listed and not is_admin(scope) and not keeps_own:
            raise PermissionDenied(
                f"list yourself ({scope.principal!r}) as a writer: you would lose {name!r}"
            )
        self.store.set_access(scope, name, listed)
        return DatasetAccess.of(name, listed)

    def _current_schema(self, scope: Scope, name: str) -> DatasetSchema | None:
        try:
            found = self.store.schema(scope, name)
        except NotFound:
            return None  # a new dataset
        return None if found is None else DatasetSchema.from_dict(found[0])

    def _adopt_schema(self, scope: Scope, name: str, schema: DatasetSchema) -> None:
        with suppress(Conflict):  # another writer's first version set it first: theirs stands
            self.store.set_schema(scope, name, schema.to_dict(), None)

    # -- schemas and validation ----------------------------------------------------------

    def schema(self, scope: Scope, name: str) -> tuple[DatasetSchema, int]:
        """The dataset's current schema and its revision.

        Raises:
            NotFound: the dataset, or its schema (it has no table version yet).
        """
        self._check(scope, name)
        found = self.store.schema(scope, name)
        if found is None:
            raise NotFound(
                f"dataset {name!r} has no schema: none of its versions is a table",
                {"dataset": name},
            )
        return DatasetSchema.from_dict(found[0]), found[1]

    def set_schema(
        self, scope: Scope, name: str, schema: DatasetSchema, expected_revision: int
    ) -> int:
        """Replace the schema read at ``expected_revision``; returns the new revision."""
        self._check(scope, name, write=True)
        schema = replace(schema, edited_by=scope.principal)
        return self.store.set_schema(scope, name, schema.to_dict(), expected_revision)

    def edit_schema(
        self, scope: Scope, name: str, column: str, changes: Mapping[str, Any]
    ) -> DatasetSchema:
        """Tighten or loosen one column (``nullable``, ``min``, ``max``, ``categories``,
        ``unique``). Raises ``InvalidInput`` for a change its type cannot hold."""
        current, revision = self.schema(scope, name)
        self._check(scope, name, write=True)
        changed = edited(current, column, changes, scope.principal)
        self.store.set_schema(scope, name, changed.to_dict(), revision)
        return changed

    def described(self, scope: Scope, ref: str) -> Described:
        """A table version's inferred schema, and its check against the dataset's schema
        when it was added. Raises ``NotFound`` for a version of other files."""
        version = self.version(scope, ref)
        found = self.objects(scope).stats(version.manifest_digest)
        if found is None:
            raise NotFound(f"{version.ref} has no statistics: it is not a table", {"ref": ref})
        return Described.from_dict(found)

    def read_table(self, scope: Scope, ref: str) -> pa.Table:
        """A table version as one Arrow table (checked out to a temporary folder)."""
        version = self.version(scope, ref)
        if version.kind is not DatasetKind.TABLE:
            raise InvalidInput(
                f"{version.ref} holds files that are not tables: check it out instead",
                {"ref": version.ref},
            )
        manifest = self.manifest(scope, version.ref)
        with tempfile.TemporaryDirectory(prefix="gnomon-read-") as folder:
            local = self.checkout(scope, version.ref, Path(folder) / "version")
            return read_local([(local / e.path, e.path) for e in manifest.files])

    def validate(
        self,
        scope: Scope,
        name: str,
        target: str | Path,
        thresholds: Thresholds | None = None,
    ) -> ValidationReport:
        """Check ``target`` (a Parquet or CSV file or folder, or a version ``NAME@V``)
        against dataset ``name``'s current schema."""
        schema, _ = self.schema(scope, name)
        path = Path(target)
        if path.exists():
            table = read_local(_table_files(path))
        elif isinstance(target, str) and "@" in target:
            table = self.read_table(scope, target)
        else:
            raise InvalidInput(
                f"{str(target)!r} is neither a file or folder nor a version NAME@VERSION",
                {"target": str(target)},
            )
        return validate(table, schema, thresholds)

    def list(self, scope: Scope) -> list[Dataset]:
        found = self.store.list(scope)
        if not self.restricted:
            return found
        hidden = self._hidden(scope)
        return [d for d in found if d.name not in hidden]

    def _hidden(self, scope: Scope) -> set[str]:
        """The workspace's datasets ``scope`` may not see (none embedded)."""
        if not self.restricted or is_admin(scope):
            return set()
        lists = self.store.restricted(scope)
        return {name for name, listed in lists.items() if scope.principal not in listed}

    def get(self, scope: Scope, name: str) -> Dataset:
        self._check(scope, name)
        return self.store.get(scope, name)

    def versions(self, scope: Scope, name: str) -> list[DatasetVersion]:
        self._check(scope, name)
        return self.store.versions(scope, name)

    def version(self, scope: Scope, ref: str) -> DatasetVersion:
        name, number = parse_ref(ref)
        self._check(scope, name)
        return self.store.version(scope, name, number)

    def manifest(self, scope: Scope, ref: str) -> Manifest:
        return self.objects(scope).manifest(self.version(scope, ref).manifest_digest)

    def checkout(
        self, scope: Scope, ref: str, dest: Path, on_progress: Progress | None = None
    ) -> Path:
        """Restore version ``ref`` into the new folder ``dest`` (absent or empty), byte for
        byte; nothing is left behind when it fails."""
        dest = Path(dest)
        check_destination(dest)
        manifest = self.manifest(scope, ref)
        return restore(dest, lambda staging: self._fetch_all(scope, manifest, staging, on_progress))

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
        self._check(scope, name)
        return self.store.record_input(scope, run_id, name, number or 0, context)

    def inputs(self, scope: Scope, run_id: str) -> list[RunInput]:
        hidden = self._hidden(scope)
        found = self.store.inputs_of(scope, run_id)
        return [i for i in found if parse_ref(i.ref)[0] not in hidden]

    def used_by(self, scope: Scope, ref: str) -> UsedBy:
        """The runs that used version ``ref``, and the model versions those runs made."""
        version = self.version(scope, ref)
        runs = self.store.runs_using(scope, version.dataset, version.version)
        models: list[ModelUse] = []
        find = self.find_models_of_runs
        models_of_runs = find() if find is not None and runs else None
        if models_of_runs is not None:
            models = models_of_runs(scope, [run.run_id for run in runs])
        return UsedBy(version.ref, tuple(runs), tuple(models))


def _context(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > CONTEXT_LENGTH:
        raise InvalidInput(f"an input's context is 1 to {CONTEXT_LENGTH} characters, got {value!r}")
    if not value.replace("_", "").replace("-", "").isalnum():
        raise InvalidInput(f"an input's context is letters, digits, '-' and '_', got {value!r}")
    return value


def _table_files(path: Path) -> list[tuple[Path, str]]:
    """A Parquet or CSV file, or every one below a folder (sorted), as ``read_local`` takes."""
    if path.is_file():
        return [(path, path.name)]
    found = sorted(
        p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(TABLE_SUFFIXES)
    )
    if not found:
        raise InvalidInput(f"folder '{path}' holds no Parquet or CSV file", {"path": str(path)})
    return [(p, p.relative_to(path).as_posix()) for p in found]


def _stat_key(path: Path) -> tuple[int, int, int, int] | None:
    """The stat key of a regular file at ``path`` itself (a link is no longer the file)."""
    try:
        found = os.lstat(path)
    except OSError:
        return None
    return stat_key(found) if stat_module.S_ISREG(found.st_mode) else None
