"""Where step outputs live: content-addressed objects in the artifact store.

Keys are ``<workspace id>/pipelines/objects/<2 hex>/<rest>`` (XXH3-128 of the bytes), so an
output computed twice is stored once and a cache hit needs no copy. Local objects are written
without an ``fsync`` each (a 200-step chain would spend most of its time syncing): every read
checks the digest, a torn or missing object is treated as absent — a cache miss, so the step
runs again — and the run ends with one filesystem sync.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import xxhash

from gnomon.artifacts.keys import clean_key
from gnomon.errors import NotFound


def digest_of(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def verified(digest: str, data: bytes) -> bytes:
    """``data`` if it is the content ``digest`` names; NotFound (a damaged object) if not."""
    if digest_of(data) != digest:
        raise NotFound(f"pipeline artifact {digest} is damaged (its content does not match)")
    return data


def _check(digest: str) -> str:
    if len(digest) != 32 or any(c not in "0123456789abcdef" for c in digest):
        raise NotFound(f"no pipeline artifact {digest[:40]!r}")
    return digest


class Objects(Protocol):
    def put(self, data: bytes) -> str: ...

    def put_fresh(self, data: bytes) -> tuple[str, bool]:
        """Store ``data``; True when it certainly was not stored before (False: it was, or
        this store cannot tell cheaply). Output nobody stored before is input no step has
        read before: the runner skips the cache lookup of steps that read only such."""
        ...

    def get(self, digest: str) -> bytes: ...

    def exists(self, digest: str, size: int) -> bool:
        """Cheaply: the object is there with this size (reads check the content itself)."""
        ...

    def local_file(self, digest: str) -> Path: ...

    def sync(self) -> None: ...


SERVER_PREFIX = "gnomon+"  # a root "gnomon+https://host": the objects a gnomon server keeps


@dataclass(frozen=True, slots=True)
class ObjectsAddress:
    """Picklable: how a worker process (local or on Ray) opens the same objects.

    A root ``gnomon+http(s)://server`` names a server's objects; its ``workspace`` is then
    the workspace's name, and the worker logs in as itself (``GNOMON_TOKEN`` or its saved
    login): no token travels in the address.
    """

    root: str  # the artifact root: a folder, an s3:// URI, or gnomon+https://server
    workspace: str  # the workspace's id (its name for a server's objects)
    s3_endpoint_url: str | None = None

    def open(self) -> Objects:
        if self.root.startswith((SERVER_PREFIX + "http://", SERVER_PREFIX + "https://")):
            from gnomon.pipelines.http_objects import HttpObjects

            return HttpObjects(self.root.removeprefix(SERVER_PREFIX), self.workspace)
        if "://" not in self.root or self.root.startswith("file://"):
            base = self.root.removeprefix("file://")
            return LocalObjects(Path(base) / clean_key(f"{self.workspace}/pipelines/objects"))
        return StoreObjects(self)


class LocalObjects:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        digest = _check(digest)
        return self.root / digest[:2] / digest[2:]

    def put(self, data: bytes) -> str:
        return self.put_fresh(data)[0]

    def put_fresh(self, data: bytes) -> tuple[str, bool]:
        digest = digest_of(data)
        target = self.path(digest)
        if self.exists(digest, len(data)):
            return digest, False
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".tmp-{secrets.token_hex(6)}")
        with open(tmp, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
        return digest, True

    def get(self, digest: str) -> bytes:
        try:
            data = self.path(digest).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"pipeline artifact {digest} is missing from {self.root}") from None
        return verified(digest, data)

    def has(self, digest: str) -> bool:
        try:
            self.get(digest)
        except NotFound:
            return False
        return True

    def exists(self, digest: str, size: int) -> bool:
        try:
            return self.path(digest).stat().st_size == size
        except (OSError, NotFound):
            return False

    def local_file(self, digest: str) -> Path:
        self.get(digest)  # checked
        return self.path(digest)

    def sync(self) -> None:
        from gnomon.artifacts.bulk import sync_folder

        if self.root.is_dir():
            sync_folder(self.root)


class StoreObjects:
    """Objects in a remote artifact store (S3): each put is one durable upload."""

    def __init__(self, address: ObjectsAddress) -> None:
        from gnomon.artifacts import open_artifact_store

        self.store = open_artifact_store(address.root, s3_endpoint_url=address.s3_endpoint_url)
        self.prefix = clean_key(f"{address.workspace}/pipelines/objects")
        self.cache = Path(os.environ.get("TMPDIR", "/tmp")) / "gnomon-pipeline-objects"

    def key(self, digest: str) -> str:
        digest = _check(digest)
        return f"{self.prefix}/{digest[:2]}/{digest[2:]}"

    def put(self, data: bytes) -> str:
        digest = digest_of(data)
        self.store.put_bytes(data, self.key(digest))
        return digest

    def put_fresh(self, data: bytes) -> tuple[str, bool]:
        return self.put(data), False  # asking first would cost a round trip per output

    def get(self, digest: str) -> bytes:
        return verified(digest, self.store.get_bytes(self.key(digest)))

    def exists(self, digest: str, size: int) -> bool:
        try:
            found = self.store.list(self.key(digest))
        except NotFound:
            return False
        return any(info.size == size for info in found)

    def local_file(self, digest: str) -> Path:
        local = LocalObjects(self.cache)
        if not local.has(digest):
            local.put(self.get(digest))
        return local.path(digest)

    def sync(self) -> None:
        return None  # every upload was durable when it returned


__all__ = [
    "SERVER_PREFIX",
    "LocalObjects",
    "Objects",
    "ObjectsAddress",
    "StoreObjects",
    "digest_of",
]
