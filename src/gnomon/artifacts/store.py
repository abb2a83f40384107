"""The artifact store contract: files under keys, relative to one root."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

# What every store's Unavailable says: the root, bucket or endpoint go to the log only.
UNAVAILABLE = "the artifact store is unavailable"


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """One entry of a listing. ``path`` is relative to the listed prefix's root key."""

    path: str
    is_dir: bool
    size: int | None = None


@runtime_checkable
class ArtifactStore(Protocol):
    """Stores files under ``/``-separated keys below one root (a folder or an S3 prefix).

    Keys are relative, never contain ``..``, and are at most 1024 bytes of UTF-8 with
    segments of at most 255 (``keys.clean_key``); implementations reject any other key with
    ``InvalidInput``. Errors name keys, never the store's root, bucket, endpoint or folders.
    Every write is atomic: a reader sees the whole new file or nothing.
    """

    root: str

    def uri(self, key: str) -> str:
        """Full URI of ``key`` (``/abs/folder/key`` or ``s3://bucket/prefix/key``)."""
        ...

    def put_file(self, local_path: Path, key: str) -> None:
        """Upload one file to ``key``, replacing what was there. Raises ``NotFound`` when the
        local file is missing."""
        ...

    def put_dir(self, local_dir: Path, prefix: str) -> None:
        """Upload every file below ``local_dir`` to ``prefix/<relative path>``."""
        ...

    def put_bytes(self, data: bytes, key: str) -> None:
        """Write ``data`` to ``key`` atomically."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """Read one file. Raises ``NotFound`` naming the key."""
        ...

    def list(self, prefix: str = "") -> list[ArtifactInfo]:
        """Direct children of ``prefix`` (one level), sorted by path; paths are relative to the
        root, like keys. An absent prefix lists as empty."""
        ...

    def download(self, key: str, local_dir: Path) -> Path:
        """Copy a file or a whole prefix into ``local_dir``; returns the local path of the copy.
        Raises ``NotFound`` when nothing is stored under ``key``."""
        ...

    def delete(self, prefix: str) -> None:
        """Remove a file or everything under a prefix; absent keys are not an error."""
        ...


@runtime_checkable
class ReadinessProbe(Protocol):
    """An optional ability of an artifact store: a cheap check that it can take files now,
    for the server's ``/readyz``. Stores without it are probed by listing their root."""

    def check_ready(self) -> None:
        """Raises ``Unavailable`` (naming nothing internal; details go to the log) when the
        store cannot be written: a missing bucket, an unwritable folder, no connection."""
        ...


@runtime_checkable
class BulkWriter(Protocol):
    """An optional ability of an artifact store: many files written faster together than one
    by one, each atomic as ``put_file`` makes it and all durable when the call returns."""

    def put_files(
        self, items: Sequence[tuple[Path, str]], on_file: Callable[[int], None] | None = None
    ) -> None:
        """Upload each ``(local path, key)``; ``on_file`` gets each copied file's size."""
        ...
