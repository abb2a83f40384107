"""Filesystem access below a trusted root that never follows a symbolic link.

Every step opens one name relative to the folder opened before it (``openat`` with
``O_NOFOLLOW``), so a link planted anywhere below the root, even while a call is under way,
is met as a link and refused: nothing outside the root is ever read, written or removed
through one. Special files (FIFOs, devices, sockets) are refused too, opened non-blocking so
a planted FIFO cannot hang the caller. Names are ``/``-free segments of a cleaned key.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from gnomon._private_files import PRIVATE_DIR

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_ENTRY = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CHUNK = 1024 * 1024


class NotPlain(Exception):
    """``path`` (relative to the root) is a symbolic link or a special file, not a file or
    folder the store wrote."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(f"{path!r} is a {kind}")
        self.path = path
        self.kind = kind


def open_folder(root: Path, parts: Sequence[str], *, create: bool = False) -> int:
    """Descriptor of the folder ``root/parts…``; the caller closes it.

    Args:
        create: make missing folders (0700) on the way, as a write does.

    Raises:
        NotPlain: a segment is a link or a special file.
        OSError: as ``openat`` does: ``FileNotFoundError``, ``NotADirectoryError`` (a segment
            is a file)...
    """
    folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for depth, name in enumerate(parts, 1):
            child = _step(folder, name, parts[:depth], create)
            os.close(folder)
            folder = child
    except BaseException:
        os.close(folder)
        raise
    return folder


def open_entry(folder: int, name: str, path: str) -> tuple[int, int]:
    """``(descriptor, st_mode)`` of the file or folder ``name`` in ``folder``, at ``path``
    below the root; the caller closes the descriptor.

    Raises:
        NotPlain: ``name`` is a link or a special file.
    """
    try:
        entry = os.open(name, _ENTRY, dir_fd=folder)
    except OSError:
        _refuse_unplain(folder, name, path)
        raise
    try:
        mode = os.fstat(entry).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise NotPlain(path, "special file")
    except BaseException:
        os.close(entry)
        raise
    return entry, mode


def plain_entries(folder: int, path: str, hidden: Callable[[str], bool]) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` (at ``path``), except hidden ones; each a file or a folder.

    Raises:
        NotPlain: an entry is a link or a special file.
    """
    with os.scandir(folder) as scan:  # scandir works on its own copy of the descriptor
        entries = [entry for entry in scan if not hidden(entry.name)]
    for entry in entries:
        if not (entry.is_dir(follow_symlinks=False) or entry.is_file(follow_symlinks=False)):
            kind = "symbolic link" if entry.is_symlink() else "special file"
            raise NotPlain(_join(path, entry.name), kind)
    return entries


def read_all(entry: int) -> bytes:
    chunks = []
    while chunk := os.read(entry, _CHUNK):
        chunks.append(chunk)
    return b"".join(chunks)


def copy_out(entry: int, mode: int, dest: Path, path: str, hidden: Callable[[str], bool]) -> None:
    """Copy the open file or folder ``entry`` (at ``path``) to ``dest``, a folder
    recursively; its links and special files are refused, never followed."""
    if stat.S_ISREG(mode):
        with open(dest, "wb") as out:
            while chunk := os.read(entry, _CHUNK):
                out.write(chunk)
        return
    dest.mkdir(exist_ok=True)
    for child in plain_entries(entry, path, hidden):
        child_path = _join(path, child.name)
        try:
            fd, child_mode = open_entry(entry, child.name, child_path)
        except FileNotFoundError:
            continue  # deleted since the listing: a concurrent delete wins
        try:
            copy_out(fd, child_mode, dest / child.name, child_path, hidden)
        finally:
            os.close(fd)


def remove(folder: int, name: str) -> None:
    """Remove the file, link or whole folder ``name`` of ``folder``; absent is not an error.
    A link is removed itself, never what it points at."""
    try:
        mode = os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        # With dir_fd, rmtree walks by descriptors and never follows a link.
        shutil.rmtree(name, dir_fd=folder, ignore_errors=True)
    else:
        os.unlink(name, dir_fd=folder)


def _step(folder: int, name: str, parts: Sequence[str], create: bool) -> int:
    try:
        return _open_step(folder, name, parts)
    except FileNotFoundError:
        if not create:
            raise
    try:
        os.mkdir(name, PRIVATE_DIR, dir_fd=folder)
    except FileExistsError:
        return _open_step(folder, name, parts)  # made meanwhile by another writer: not ours
    child = _open_step(folder, name, parts)
    os.fchmod(child, PRIVATE_DIR)  # mkdir's mode is filtered by the umask
    return child


def _open_step(folder: int, name: str, parts: Sequence[str]) -> int:
    try:
        return os.open(name, _FOLDER, dir_fd=folder)
    except OSError:
        # O_NOFOLLOW|O_DIRECTORY on a link fails with ENOTDIR or ELOOP: look before blaming it.
        _refuse_unplain(folder, name, "/".join(parts))
        raise


def _refuse_unplain(folder: int, name: str, path: str) -> None:
    try:
        mode = os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode
    except OSError:
        return
    if stat.S_ISLNK(mode):
        raise NotPlain(path, "symbolic link")
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise NotPlain(path, "special file")


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


__all__ = [
    "NotPlain",
    "copy_out",
    "open_entry",
    "open_folder",
    "plain_entries",
    "read_all",
    "remove",
]
