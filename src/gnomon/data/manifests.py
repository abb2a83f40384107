"""A version's manifest: built from its files, and as stored (canonical JSON, whose digest
names the version's whole content). Light on imports: the CLI's quick path builds one."""

from __future__ import annotations

import json
from collections.abc import Sequence

from gnomon.data.entities import FileEntry, Manifest
from gnomon.data.hashing import DIGEST_PREFIX, digest_bytes
from gnomon.errors import Conflict, InvalidInput

MAX_MANIFEST_BYTES = 512 * 1024 * 1024
_HEX_DIGITS = frozenset("0123456789abcdef")


def build_manifest(entries: Sequence[FileEntry]) -> Manifest:
    files = tuple(sorted(entries, key=lambda entry: entry.path))
    return Manifest(files, digest_bytes(_canonical(files)))


def _canonical(files: Sequence[FileEntry]) -> bytes:
    rows = [[entry.path, entry.digest, entry.size] for entry in files]
    return json.dumps(rows, separators=(",", ":"), ensure_ascii=False).encode()


def encode_manifest(manifest: Manifest) -> bytes:
    return _canonical(manifest.files)


def decode_manifest(data: bytes) -> Manifest:
    """A manifest read back; every path is checked as a relative key before anyone uses it."""
    from gnomon.artifacts.keys import clean_key

    if len(data) > MAX_MANIFEST_BYTES:
        raise InvalidInput("the stored manifest is over the size limit")
    try:
        rows = json.loads(data)
        files = tuple(
            FileEntry(clean_key(path), digest, int(size))
            for path, digest, size in rows
            if isinstance(path, str) and _is_digest(digest)
        )
    except (ValueError, TypeError) as exc:
        raise Conflict(f"the stored manifest cannot be read: {exc}") from None
    if len(files) != len(rows) or any(entry.size < 0 for entry in files):
        raise Conflict("the stored manifest holds malformed entries")
    return Manifest(files, digest_bytes(data))


def _is_digest(value: object) -> bool:
    return (
        isinstance(value, str)
        and value.startswith(DIGEST_PREFIX)
        and len(value) == len(DIGEST_PREFIX) + 32
        and _HEX_DIGITS.issuperset(value[len(DIGEST_PREFIX) :])
    )
