"""The artifact store contract: files under keys, relative to one root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """One entry of a listing. ``path`` is relative to the listed prefix's root key."""

    path: str
    is_dir: bool
    size: int | None = None


@runtime_checkable
class ArtifactStore(Protocol):
    """Stores files under ``/``-separated keys below one root (a folder or an S3 prefix).

    Keys are relative and never contain ``..``; implementations reject such a key with
    ``InvalidInput``. Every write is atomic: a reader sees the whole new file or nothing.
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
