"""Step outputs as the server keeps them for remote runners and their workers.

The keys are the ones ``LocalObjects`` and ``StoreObjects`` use
(``<workspace id>/pipelines/objects/<2 hex>/<30 hex>``), so a run recorded embedded and one
recorded through the server share their outputs. The server handles them as bytes only:
each is checked against its XXH3-128 digest on the way in and on the way out, and never
decoded, unpickled or loaded.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

import xxhash

from gnomon.artifacts import ArtifactStore
from gnomon.artifacts.keys import clean_key
from gnomon.artifacts.local import LocalArtifactStore
from gnomon.errors import InvalidInput, NotFound

_CHUNK = 1 << 20


def check_digest(digest: str) -> str:
    """``digest`` if it is an object's name: 32 lowercase hex characters (XXH3-128)."""
    if len(digest) != 32 or any(c not in "0123456789abcdef" for c in digest):
        raise InvalidInput(
            f"not a pipeline object digest (32 lowercase hex characters): {digest[:40]!r}",
            {"digest": digest[:40]},
        )
    return digest


def digest_file(path: Path) -> str:
    hasher = xxhash.xxh3_128()
    with open(path, "rb") as source:
        while chunk := source.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


class ServedObjects:
    """One workspace's pipeline objects in the server's artifact store."""

    def __init__(self, store: ArtifactStore, workspace: str) -> None:
        self.store = store
        self.prefix = clean_key(f"{workspace}/pipelines/objects")

    def key(self, digest: str) -> str:
        digest = check_digest(digest)
        return f"{self.prefix}/{digest[:2]}/{digest[2:]}"

    def exists(self, digest: str, size: int) -> bool:
        key = self.key(digest)
        if isinstance(self.store, LocalArtifactStore):
            # A listing of a file's own key is empty locally: ask the filesystem, no links.
            try:
                found = os.lstat(self.store.uri(key))
            except OSError:
                return False
            return stat.S_ISREG(found.st_mode) and found.st_size == size
        try:
            listed = self.store.list(key)
        except NotFound:
            return False
        return any(info.size == size for info in listed)

    def missing(self, objects: Sequence[tuple[str, int]]) -> list[str]:
        """The digests of ``objects`` (digest, size) not stored with that size, in order."""
        for digest, _ in objects:
            check_digest(digest)
        return list(dict.fromkeys(d for d, size in objects if not self.exists(d, size)))

    def put(self, local: Path, digest: str, computed: str) -> None:
        """Store the uploaded file ``local`` as ``digest``, its content's digest ``computed``.

        Raises:
            InvalidInput: the two digests differ (nothing is stored).
        """
        key = self.key(digest)
        if computed != digest:
            raise InvalidInput(
                f"the uploaded content's digest is {computed}, not {digest}: nothing was stored",
                {"digest": digest},
            )
        if not self.exists(digest, local.stat().st_size):
            self.store.put_file(local, key)

    def fetch(self, digest: str, folder: Path) -> Path:
        """The object copied into ``folder``, its content checked.

        Raises:
            NotFound: the workspace stores no such object, or a damaged one.
        """
        key = self.key(digest)
        try:
            local = self.store.download(key, folder)
        except NotFound:
            raise NotFound(f"no pipeline object {digest}", {"digest": digest}) from None
        if digest_file(local) != digest:
            raise NotFound(f"pipeline object {digest} is damaged (its content does not match)")
        return local


__all__ = ["ServedObjects", "check_digest", "digest_file"]
