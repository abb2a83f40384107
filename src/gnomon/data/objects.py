"""Content-addressed storage of a workspace's dataset files and manifests in the artifact store.

Keys: ``<workspace id>/datasets/objects/<2 hex>/<rest>`` for file content and
``<workspace id>/datasets/manifests/<hex>.json`` for manifests. Objects are per workspace, so
deduplication never tells one workspace what another stores.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gnomon.artifacts import ArtifactStore
from gnomon.artifacts.keys import clean_key
from gnomon.artifacts.store import BulkWriter
from gnomon.data.entities import FileEntry, Manifest
from gnomon.data.hashing import DIGEST_PREFIX, digest_file
from gnomon.data.manifests import decode_manifest, encode_manifest
from gnomon.errors import Conflict, InvalidInput, NotFound

_WRITERS = 4  # object uploads overlap their waits (fsync locally, round trips on S3)


def digest_hex(digest: str) -> str:
    if not digest.startswith(DIGEST_PREFIX) or len(digest) != len(DIGEST_PREFIX) + 32:
        raise InvalidInput(f"not a dataset digest: {digest[:60]!r}")
    tail = digest[len(DIGEST_PREFIX) :]
    int(tail, 16)  # hex only: the digest becomes part of a key
    return tail


class ObjectStore:
    def __init__(self, store: ArtifactStore, workspace: str) -> None:
        self.store = store
        self.prefix = clean_key(f"{workspace}/datasets")

    def object_key(self, digest: str) -> str:
        tail = digest_hex(digest)
        return f"{self.prefix}/objects/{tail[:2]}/{tail[2:]}"

    def manifest_key(self, digest: str) -> str:
        return f"{self.prefix}/manifests/{digest_hex(digest)}.json"

    def put_objects(
        self,
        files: Sequence[tuple[Path, str, int]],
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> None:
        """Store each ``(local path, digest, size)``; every object is whole or absent."""
        total = sum(size for _, _, size in files)
        done = 0

        def advanced(size: int) -> None:
            nonlocal done
            done += size
            if on_progress is not None:
                on_progress(done, total)

        if isinstance(self.store, BulkWriter):  # one sync for all, not one per object
            items = [(path, self.object_key(digest)) for path, digest, _ in files]
            self.store.put_files(items, advanced)
            return

        def one(item: tuple[Path, str, int]) -> int:
            path, digest, size = item
            self.store.put_file(path, self.object_key(digest))
            return size

        with ThreadPoolExecutor(_WRITERS) as pool:
            for size in pool.map(one, files):
                advanced(size)

    def stats_key(self, manifest_digest: str) -> str:
        return f"{self.prefix}/stats/{digest_hex(manifest_digest)}.json"

    def put_stats(self, manifest_digest: str, stats: dict[str, object]) -> None:
        data = json.dumps(stats, sort_keys=True, allow_nan=False).encode()
        self.store.put_bytes(data, self.stats_key(manifest_digest))

    def stats(self, manifest_digest: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.store.get_bytes(self.stats_key(manifest_digest)))  # type: ignore[no-any-return]
        except NotFound:
            return None

    def put_manifest(self, manifest: Manifest) -> None:
        self.store.put_bytes(encode_manifest(manifest), self.manifest_key(manifest.digest))

    def manifest(self, digest: str) -> Manifest:
        data = self.store.get_bytes(self.manifest_key(digest))
        manifest = decode_manifest(data)
        if manifest.digest != digest:
            raise Conflict(f"the stored manifest {digest} does not match its digest")
        return manifest

    def fetch(self, entry: FileEntry, dest: Path) -> None:
        """Copy one object to ``dest`` (a new file), checking its size and digest."""
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".gnomon-") as staging:
            try:
                copied = self.store.download(self.object_key(entry.digest), Path(staging))
            except NotFound:
                raise NotFound(
                    f"the content of {entry.path!r} ({entry.digest}) is missing from the store",
                    {"path": entry.path},
                ) from None
            if copied.stat().st_size != entry.size or digest_file(copied) != entry.digest:
                raise Conflict(f"the stored content of {entry.path!r} does not match its digest")
            os.replace(copied, dest)

    def profile_key(self, manifest_digest: str) -> str:
        return f"{self.prefix}/profiles/{digest_hex(manifest_digest)}.json"

    def put_profile(self, manifest_digest: str, profile: dict[str, object]) -> None:
        data = json.dumps(profile, sort_keys=True, allow_nan=False).encode()
        self.store.put_bytes(data, self.profile_key(manifest_digest))

    def profile(self, manifest_digest: str) -> dict[str, Any] | None:
        """The stored profile of the version with this manifest; None before the first."""
        try:
            return json.loads(self.store.get_bytes(self.profile_key(manifest_digest)))  # type: ignore[no-any-return]
        except NotFound:
            return None
