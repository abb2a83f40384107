"""HttpDatasetClient: ``client.datasets`` through a gnomon server (the contract is documented
on :class:`gnomon.data.api.DatasetsApi`).

``add`` hashes locally (with this machine's digest cache), asks which objects the workspace
lacks, uploads only those, then makes the version from the list of entries; the server checks
every object and describes table versions itself. ``checkout`` downloads each file by its path
into a staging folder, checks its size and digest, and renames the folder into place.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon.client.transport import Transport, body, key_path, segment
from gnomon.data import frames
from gnomon.data.access import DatasetAccess, not_found
from gnomon.data.api import DEFAULT_GRACE_S
from gnomon.data.collect import Collected
from gnomon.data.described import Described, read_local
from gnomon.data.entities import (
    AddResult,
    Dataset,
    DatasetDiff,
    DatasetVersion,
    FileEntry,
    Manifest,
    RunInput,
    UsedBy,
    parse_ref,
)
from gnomon.data.hashing import DIGEST_CACHE, DigestCache, digest_file
from gnomon.data.restore import check_destination, restore
from gnomon.data.schema import DatasetSchema
from gnomon.data.schemas import (
    MAX_DIGESTS_ASKED,
    AccessOut,
    AddResultOut,
    CollectAsk,
    CollectedOut,
    DatasetOut,
    DiffOut,
    EntryWire,
    LogInput,
    ManifestOut,
    MissingAsk,
    MissingOut,
    NewVersion,
    RunInputOut,
    SchemaEdit,
    SetAccess,
    UsedByOut,
    VersionOut,
)
from gnomon.data.validation import Thresholds, ValidationReport, validate
from gnomon.errors import Conflict, InvalidInput
from gnomon.progress import ProgressCallback

if TYPE_CHECKING:
    import pandas as pd


class HttpDatasetClient:
    """Datasets of the transport's workspace through a gnomon server; ``home`` holds this
    machine's digest cache, ``s3_endpoint_url`` says where S3 is for ingesting from it."""

    def __init__(
        self, transport: Transport, home: Path, s3_endpoint_url: str | None = None
    ) -> None:
        self.transport = transport
        self.digest_cache = DigestCache(Path(home) / DIGEST_CACHE)
        self.s3_endpoint_url = s3_endpoint_url

    def add(
        self,
        path: str | Path,
        name: str,
        *,
        message: str = "",
        on_progress: ProgressCallback | None = None,
    ) -> AddResult:
        source = {"path": str(Path(path).resolve())}
        return self._add(Path(path), name, message, source, None, on_progress)

    def log(
        self, data: Any, name: str, *, message: str = "", run_id: str | None = None
    ) -> AddResult:
        with frames.staged(data) as (path, source):
            return self._add(path, name, message, source, run_id, None)

    def _add(
        self,
        path: Path,
        name: str,
        message: str,
        source: dict[str, str],
        run_id: str | None,
        on_progress: ProgressCallback | None,
    ) -> AddResult:
        from gnomon.data.scan import scan

        _dataset_path(name)  # a bad name fails before any file is read
        found = scan(path, self.digest_cache, on_progress)
        assert found is not None  # scan reads what the cache lacks
        first: dict[str, Path] = {}
        for local in found.files:
            first.setdefault(local.digest, local.absolute)
        missing = self._missing(list(first))
        sent = 0
        for digest in missing:
            self.transport.upload(f"/dataset-objects/{segment(digest)}", first[digest])
            sent += first[digest].stat().st_size
        files = [EntryWire(path=f.path, digest=f.digest, size=f.size) for f in found.files]
        new = body(NewVersion, files=files, message=message, source=source, run_id=run_id)
        answer = self.transport.one(
            "POST", f"{_dataset_path(name)}/versions", AddResultOut, json=new
        )
        result = answer.entity()
        if not result.created:
            return result
        # The server saw the objects arrive before the version: the uploads are what was new.
        return AddResult(result.version, True, len(missing), sent, result.validation)

    def _missing(self, digests: list[str]) -> list[str]:
        missing: list[str] = []
        for start in range(0, len(digests), MAX_DIGESTS_ASKED):
            ask = body(MissingAsk, digests=digests[start : start + MAX_DIGESTS_ASKED])
            missing += self.transport.one(
                "POST", "/dataset-objects/missing", MissingOut, json=ask
            ).missing
        return missing

    def get(self, name: str) -> Dataset:
        return self.transport.one("GET", _dataset_path(name), DatasetOut).entity()

    def versions(self, name: str) -> list[DatasetVersion]:
        found = self.transport.many("GET", f"{_dataset_path(name)}/versions", VersionOut)
        return [v.entity() for v in found]

    def version(self, ref: str) -> DatasetVersion:
        return self.transport.one("GET", _version_path(ref), VersionOut).entity()

    def manifest(self, ref: str) -> Manifest:
        path = f"{_version_path(ref)}/manifest"
        return self.transport.one("GET", path, ManifestOut).entity()

    def checkout(
        self, ref: str, dest: str | Path, *, on_progress: ProgressCallback | None = None
    ) -> Path:
        dest = Path(dest)
        check_destination(dest)
        version = self.version(ref)  # one number: 'latest' cannot move between requests
        manifest = self.manifest(version.ref)

        def fill(staging: Path) -> None:
            done = 0
            for entry in manifest.files:
                self._download(version, entry, staging / entry.path)
                done += entry.size
                if on_progress is not None:
                    on_progress(done, manifest.bytes)

        return restore(dest, fill)

    def _download(self, version: DatasetVersion, entry: FileEntry, local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        path = f"{_version_path(version.ref)}/files/{key_path(entry.path)}"
        with self.transport.stream("GET", path) as response, open(local, "wb") as sink:
            for chunk in response.iter_bytes(1 << 20):
                sink.write(chunk)
        if local.stat().st_size != entry.size or digest_file(local) != entry.digest:
            raise Conflict(f"the downloaded content of {entry.path!r} does not match its digest")

    def diff(self, before: str, after: str) -> DatasetDiff:
        path = f"{_version_path(before)}/diff"
        return self.transport.one("GET", path, DiffOut, params={"to": after}).entity()

    def load(self, ref: str) -> pd.DataFrame:
        return self._table(ref).to_pandas()

    def _table(self, ref: str) -> Any:
        version = self.version(ref)
        if version.kind.value != "table":
            raise InvalidInput(
                f"{version.ref} holds files that are not tables: check it out instead",
                {"ref": version.ref},
            )
        with tempfile.TemporaryDirectory(prefix="gnomon-read-") as folder:
            local = self.checkout(version.ref, Path(folder) / "version")
            manifest = self.manifest(version.ref)
            return read_local([(local / e.path, e.path) for e in manifest.files])

    def schema(self, name: str) -> DatasetSchema:
        found = self.transport.request("GET", f"{_dataset_path(name)}/schema")
        found.pop("revision", None)
        return DatasetSchema.from_dict(found)

    def edit_schema(self, name: str, column: str, **changes: Any) -> DatasetSchema:
        edit = body(SchemaEdit, column=column, changes=changes)
        found = self.transport.request("PATCH", f"{_dataset_path(name)}/schema", json=edit)
        return DatasetSchema.from_dict(found)

    def described(self, ref: str) -> Described:
        found = self.transport.request("GET", f"{_version_path(ref)}/described")
        return Described.from_dict(found)

    def validate(
        self, name: str, target: Any, thresholds: Thresholds | None = None
    ) -> ValidationReport:
        """Checked here, against the schema fetched from the server."""
        schema = self.schema(name)
        if isinstance(target, str | Path):
            from gnomon.data.service import _table_files

            path = Path(target)
            if path.exists():
                target = read_local(_table_files(path))
            elif isinstance(target, str) and "@" in target:
                target = self._table(target)
            else:
                raise InvalidInput(
                    f"{str(target)!r} is neither a file or folder nor a version NAME@VERSION",
                    {"target": str(target)},
                )
        return validate(target, schema, thresholds)

    def log_input(self, run_id: str, ref: str, context: str = "input") -> DatasetVersion:
        sent = body(LogInput, ref=ref, context=context)
        path = f"/runs/{segment(run_id)}/inputs"
        return self.transport.one("POST", path, VersionOut, json=sent).entity()

    def inputs(self, run_id: str) -> list[RunInput]:
        found = self.transport.many("GET", f"/runs/{segment(run_id)}/inputs", RunInputOut)
        return [i.entity() for i in found]

    def used_by(self, ref: str) -> UsedBy:
        return self.transport.one("GET", f"{_version_path(ref)}/used-by", UsedByOut).entity()

    def collect(
        self,
        *,
        grace_s: float = DEFAULT_GRACE_S,
        dry_run: bool = False,
        on_progress: Callable[[int, int], None] | None = None,  # the server reads them
    ) -> Collected:
        sent = body(CollectAsk, grace_s=grace_s, dry_run=dry_run)
        content = sent.model_dump_json().encode()  # a non-finite grace as a string: refused
        headers = {"content-type": "application/json"}
        found = self.transport.one(
            "POST", "/dataset-objects/collect", CollectedOut, content=content, headers=headers
        )
        return Collected(found.objects, found.bytes, found.manifests, found.dry_run)

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
        from gnomon.data.ingest import staged
        from gnomon.tracking.validation import check_name

        name = check_name("dataset", name)
        endpoint = self.s3_endpoint_url  # the source is read here, with the user's access
        with staged(source, table, query, endpoint, on_progress=on_progress) as (data, record):
            return self._add(data, name, message, record, None, None)

    def profile(self, ref: str) -> dict[str, Any]:
        found: dict[str, Any] = self.transport.request("GET", f"{_version_path(ref)}/profile")
        return found

    def profile_html(self, ref: str, compare: str | None = None) -> str:
        # Drawn here from the server's numbers; the page escapes every name and value in them.
        from gnomon.data.profile_html import render

        if compare is None:
            return render(self.profile(ref))
        path = f"{_version_path(ref)}/comparison"
        both: dict[str, Any] = self.transport.request("GET", path, params={"to": compare})
        return render(both["profile"], both["compare"], both["histograms"])

    def access(self, name: str) -> DatasetAccess:
        return self.transport.one("GET", f"{_dataset_path(name)}/access", AccessOut).entity()

    def set_access(
        self, name: str, *, readers: Sequence[str] = (), writers: Sequence[str] = ()
    ) -> DatasetAccess:
        sent = body(SetAccess, readers=list(readers), writers=list(writers))
        path = f"{_dataset_path(name)}/access"
        return self.transport.one("PUT", path, AccessOut, json=sent).entity()

    # Last in the class: a method named ``list`` shadows the builtin for the annotations
    # after it (mypy reads ``list[...]`` below it as this method).
    def list(self) -> list[Dataset]:
        return [d.entity() for d in self.transport.many("GET", "/datasets", DatasetOut)]


def _dataset_path(name: str) -> str:
    """A dataset's path. Names the server could not route get the embedded answers."""
    from gnomon.tracking.validation import check_name

    check_name("dataset", name)
    if "/" in name:
        raise not_found(name)
    return f"/datasets/{segment(name)}"


def _version_path(ref: str) -> str:
    name, number = parse_ref(ref)
    return f"{_dataset_path(name)}/versions/{number or 'latest'}"
