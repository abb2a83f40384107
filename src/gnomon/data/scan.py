"""What a path to version holds: its files with relative paths, stats and digests."""

from __future__ import annotations

import os
import stat as stat_module
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gnomon.data.hashing import CHUNK, DigestCache, digest_file, stat_key
from gnomon.errors import InvalidInput

MAX_FILES = 1_000_000  # a manifest is held in memory whole
RACY_NS = 1_000_000_000  # files changed this recently are hashed again next time
MAX_KEY_CHARS = 256  # at most 1,024 bytes of UTF-8: a key every artifact store takes
_READERS = max(2, os.cpu_count() or 1)  # reads and hashing release the GIL; more only contend


@dataclass(frozen=True, slots=True)
class LocalFile:
    path: str  # relative, '/'-separated: the path inside the version
    absolute: Path
    size: int
    key: tuple[int, int, int, int]
    digest: str


@dataclass(frozen=True, slots=True)
class Scan:
    files: list[LocalFile]
    skipped_links: int  # symbolic links are not followed: they could point anywhere
    read_bytes: int  # content read to hash it (the rest came from the cache)


def scan(
    source: Path,
    cache: DigestCache,
    on_progress: Callable[[int, int | None], None] | None = None,
    *,
    read: bool = True,
) -> Scan | None:
    """Every regular file under ``source`` (or ``source`` itself), with its digest.

    ``read=False`` reads no content: ``None`` when a file's digest is not in the cache.

    Raises:
        InvalidInput: ``source`` does not exist, holds no file, or holds too many.
    """
    source = Path(source)
    try:
        top = os.lstat(source)
    except FileNotFoundError:
        raise InvalidInput(f"path '{source}' does not exist", {"path": str(source)}) from None
    if stat_module.S_ISREG(top.st_mode):
        found = [(source.name, str(source.resolve()), top)]
        links = 0
    elif stat_module.S_ISDIR(top.st_mode):
        found, links = _walk(str(source.resolve()))
    else:
        raise InvalidInput(f"path '{source}' is neither a file nor a folder", {"path": str(source)})
    if not found:
        raise InvalidInput(f"folder '{source}' holds no file to version", {"path": str(source)})
    found.sort(key=lambda item: item[0])
    keys = {absolute: stat_key(st) for _, absolute, st in found}
    digests = cache.lookup(keys.items())
    missing = [item for item in found if item[1] not in digests]
    if missing and not read:
        return None
    total = sum(st.st_size for _, _, st in missing)
    digests.update(_digest_all(missing, total, on_progress))
    # As git does with a racily clean index: a file changed within the last second may change
    # again within the same clock tick of a coarse filesystem, unseen; it is not cached.
    settled = time.time_ns() - RACY_NS
    cache.store(
        (absolute, keys[absolute], digests[absolute])
        for _, absolute, st in missing
        if st.st_ctime_ns < settled and st.st_mtime_ns < settled
    )
    files = [
        LocalFile(rel, Path(absolute), st.st_size, keys[absolute], digests[absolute])
        for rel, absolute, st in found
    ]
    return Scan(files, links, total)


def _walk(root: str) -> tuple[list[tuple[str, str, os.stat_result]], int]:
    found: list[tuple[str, str, os.stat_result]] = []
    links = 0
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                relative = f"{prefix}{entry.name}"
                if entry.is_symlink():
                    links += 1
                elif entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, f"{relative}/"))
                elif entry.is_file(follow_symlinks=False):
                    _storable(relative)
                    found.append((relative, entry.path, entry.stat(follow_symlinks=False)))
                    if len(found) > MAX_FILES:
                        raise InvalidInput(
                            f"folder '{root}' holds over {MAX_FILES:,} files; version it in parts"
                        )
    return found, links


def _storable(relative: str) -> None:
    """A path every store and checkout can hold. Names from a directory listing hold no
    '/', NUL, '.' or '..' segment, so only the length and Windows separators need a look."""
    try:
        relative.encode()
    except UnicodeEncodeError:  # bytes that are no UTF-8: no store or other machine names it
        raise InvalidInput(
            f"file name {relative!r} is not valid UTF-8: rename it to version it",
            {"path": relative.encode(errors="backslashreplace").decode()},
        ) from None
    if len(relative) > MAX_KEY_CHARS or "\\" in relative:
        from gnomon.artifacts.keys import clean_key

        clean_key(relative)


def _digest_all(
    files: list[tuple[str, str, os.stat_result]],
    total: int,
    on_progress: Callable[[int, int | None], None] | None,
) -> dict[str, str]:
    if not files:
        return {}
    done = 0

    def one(item: tuple[str, Path, os.stat_result]) -> tuple[str, str, int]:
        _, absolute, st = item
        return (
            str(absolute),
            digest_file(absolute, bytearray(min(CHUNK, st.st_size or 1))),
            st.st_size,
        )

    from concurrent.futures import ThreadPoolExecutor

    out: dict[str, str] = {}
    with ThreadPoolExecutor(_READERS) as pool:
        for path, digest, size in pool.map(one, files):
            out[path] = digest
            done += size
            if on_progress is not None:
                on_progress(done, total)
    return out
