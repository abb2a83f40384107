"""Many files into a local folder with one filesystem sync, not one ``fsync`` per file.

Each file is copied in the kernel (``copy_file_range``) to a temporary name beside its
destination; once every copy is written, one ``syncfs`` makes them all durable, then each is
renamed into place and a second ``syncfs`` makes the renames durable. A reader sees each file
whole or not at all, as with ``put_file``; a crash leaves at most temporary files. Where
``syncfs`` is missing (not Linux) every file is ``fsync``-ed instead.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

from gnomon._private_files import PRIVATE_FILE
from gnomon.artifacts import nofollow

TMP_PREFIX = ".gnomon-tmp-"
_COPIERS = 4  # copies overlap their page-cache misses and writeback waits


def _find_syncfs() -> Callable[[int], int] | None:
    # The running process's own symbols hold libc's (dlopen of NULL); ctypes.util's search
    # for the library would cost every process that imports this 15 ms.
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)
    except (OSError, TypeError):  # Windows: no process handle to look in
        return None


_syncfs = _find_syncfs()


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
    with open(source, "rb") as src:
        out = os.open(tmp, flags, PRIVATE_FILE, dir_fd=folder)
        try:
            os.fchmod(out, PRIVATE_FILE)
            size = os.fstat(src.fileno()).st_size
            copied = 0
            try:
                while copied < size:
                    step = os.copy_file_range(src.fileno(), out, size - copied)
                    if step == 0:
                        break
                    copied += step
            except OSError:  # another filesystem or kernel: copy through user space
                os.lseek(out, 0, os.SEEK_SET)
                os.ftruncate(out, 0)
                src.seek(0)
                with os.fdopen(os.dup(out), "wb") as sink:
                    shutil.copyfileobj(src, sink, 1024 * 1024)
                    copied = sink.tell()
            if fsync:
                os.fsync(out)
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
