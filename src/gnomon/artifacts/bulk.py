"""Many files into a local folder with one filesystem sync, not one ``fsync`` per file.

Each file is copied to a temporary name beside its destination, as ``filecopy`` does it
fastest (a clone, direct I/O, the kernel's copy); whatever a copy leaves in the page cache is
sent on to the disk at once (``sync_file_range``), so the disk works while later files copy.
Once every copy is written, one ``syncfs`` makes them all durable, then each is renamed into
place and a second ``syncfs`` makes the renames durable. A reader sees each file whole or not
at all, as with ``put_file``; a crash leaves at most temporary files. Where ``syncfs`` is
missing (not Linux) every file is ``fsync``-ed instead.
"""

from __future__ import annotations

import ctypes
import os
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

from gnomon._private_files import PRIVATE_FILE
from gnomon.artifacts import nofollow
from gnomon.artifacts.filecopy import copy_bytes

TMP_PREFIX = ".gnomon-tmp-"
_COPIERS = 4  # copies overlap their page-cache misses and disk writes
_SYNC_FILE_RANGE_WRITE = 2  # start writing the range's dirty pages back; wait for none


def _process_symbols() -> ctypes.CDLL | None:
    # The running process's own symbols hold libc's (dlopen of NULL); ctypes.util's search
    # for the library would cost every process that imports this 15 ms.
    try:
        return ctypes.CDLL(None, use_errno=True)
    except (OSError, TypeError):  # Windows: no process handle to look in
        return None


def _find_start_writeback(libc: ctypes.CDLL | None) -> Callable[[int], object] | None:
    found = getattr(libc, "sync_file_range", None)
    if found is None:
        return None
    found.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    # Its failure only means the writeback starts later, at the syncfs that follows anyway.
    return lambda descriptor: found(descriptor, 0, 0, _SYNC_FILE_RANGE_WRITE)


_libc = _process_symbols()
_syncfs: Callable[[int], int] | None = getattr(_libc, "syncfs", None)
_start_writeback = _find_start_writeback(_libc) if _syncfs is not None else None


def put_files(
    root: Path, items: Sequence[tuple[Path, str]], on_file: Callable[[int], None] | None
) -> None:
    """Copy each ``(source, key)`` below ``root``; every key is clean. ``on_file`` gets each
    copied file's size. Raises the first ``OSError`` (or ``NotPlain``) after cleaning up."""
    # parents, temporary name, final name: noted before the copy starts, so a failure in any
    # thread finds every temporary file to remove (list.append is atomic)
    staged: list[tuple[list[str], str, str]] = []

    def stage(item: tuple[Path, str]) -> int:
        source, key = item
        *parents, name = key.split("/")
        tmp = f"{TMP_PREFIX}{secrets.token_hex(8)}"
        staged.append((parents, tmp, name))
        folder = nofollow.open_folder(root, parents, create=True)
        try:
            size = _copy(source, folder, tmp, fsync=_syncfs is None)
        finally:
            os.close(folder)
        return size

    try:
        with ThreadPoolExecutor(_COPIERS) as pool:
            for size in pool.map(stage, items):
                if on_file is not None:
                    on_file(size)  # in the caller's thread, as progress bars want
        _sync(root)
        for parents, tmp, name in staged:
            folder = nofollow.open_folder(root, parents)
            try:
                os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
            finally:
                os.close(folder)
        _sync(root)
    except BaseException:
        for parents, tmp, _ in staged:
            with suppress(OSError):
                folder = nofollow.open_folder(root, parents)
                try:
                    os.unlink(tmp, dir_fd=folder)
                finally:
                    os.close(folder)
        raise


def _copy(source: Path, folder: int, tmp: str, *, fsync: bool) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    with open(source, "rb", buffering=0) as src:
        out = os.open(tmp, flags, PRIVATE_FILE, dir_fd=folder)
        try:
            os.fchmod(out, PRIVATE_FILE)
            copied = copy_bytes(src.fileno(), out, os.fstat(src.fileno()).st_size)
            if fsync:
                os.fsync(out)
            elif _start_writeback is not None:
                _start_writeback(out)
        except BaseException:
            os.close(out)
            with suppress(OSError):
                os.unlink(tmp, dir_fd=folder)
            raise
        os.close(out)
    return copied


def sync_folder(root: Path) -> None:
    """Make every file written below ``root`` durable (one ``syncfs``; ``os.sync`` elsewhere)."""
    if _syncfs is None:
        os.sync()
        return
    _sync(root)


def _sync(root: Path) -> None:
    if _syncfs is None:
        return  # each file was fsync-ed as it was written
    descriptor = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if _syncfs(descriptor) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error), str(root))
    finally:
        os.close(descriptor)
