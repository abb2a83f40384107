"""A version's file entries as a caller sends them (a remote ``add``): every path, digest and
size checked as a stored manifest's are when it is read back (``manifests.decode_manifest``)."""

from __future__ import annotations

from collections.abc import Sequence

from gnomon.data.entities import FileEntry
from gnomon.data.objects import digest_hex
from gnomon.errors import InvalidInput

MAX_ENTRIES = 1_000_000  # as scan.MAX_FILES: a manifest is held in memory whole
MAX_OBJECT_BYTES = 1 << 40  # 1 TiB: one file of a version
PATH_LENGTH = 1024


def check_entries(entries: Sequence[FileEntry]) -> list[FileEntry]:
    """The entries, each path a clean relative key, each named once.

    Raises:
        InvalidInput: none, too many, a bad path, digest or size, or a path twice.
    """
    from gnomon.artifacts.keys import clean_key

    if not entries:
        raise InvalidInput("a version holds at least one file")
    if len(entries) > MAX_ENTRIES:
        raise InvalidInput(f"a version holds at most {MAX_ENTRIES} files")
    seen: set[str] = set()
    checked = []
    for entry in entries:
        path = entry.path
        if not isinstance(path, str) or not path or len(path) > PATH_LENGTH:
            raise InvalidInput(f"a file's path is 1 to {PATH_LENGTH} characters")
        try:
            clean = clean_key(path)
        except InvalidInput:
            raise InvalidInput(f"{path[:100]!r} is not a relative path inside a version") from None
        if clean != path:
            raise InvalidInput(f"{path[:100]!r} is not a normalised relative path")
        if path in seen:
            raise InvalidInput(f"{path[:100]!r} is listed twice", {"path": path[:100]})
        seen.add(path)
        digest_hex(entry.digest)
        size = entry.size
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_OBJECT_BYTES:
            raise InvalidInput(f"the size of {path[:100]!r} is 0 to {MAX_OBJECT_BYTES} bytes")
        checked.append(entry)
    return checked
