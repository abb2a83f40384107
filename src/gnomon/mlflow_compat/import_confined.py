"""Files read only from inside a folder the import is allowed to read.

An MLflow store is data from elsewhere: its artifact locations may name any folder on this
machine (``/etc``, ``file:///home/me/.ssh``) and any of its files may be a symbolic link to one
(``params/key -> ~/.ssh/id_ed25519``). So every path is taken from an allowed root one part at a
time, each part opened relative to the folder before it with ``O_NOFOLLOW``: a link anywhere on
the way is refused, not followed, and a ``..`` cannot climb out because the path is made
absolute and normalised, then checked to lie below the root, before anything is opened. Only
regular files are read (a pipe or a device would block, or never end).

This needs ``open`` with ``dir_fd`` (Linux, macOS and the BSDs), as every POSIX system has.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gnomon.errors import InvalidInput, NotFound

LINK = "a symbolic link; not followed"
NOT_REGULAR = "not a regular file"
NOT_FOLDER = "not a folder"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW
# O_NONBLOCK: a file swapped for a pipe after its check cannot block the open.
_FILE_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
# Where an open file descriptor has a path of its own, so a copy reads the very file checked.
_FD_FOLDER = next((Path(p) for p in ("/proc/self/fd", "/dev/fd") if os.path.isdir(p)), None)


class Refused(Exception):
    """A path the import does not read, with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConfinedFolder:
    """A folder whose files the import may read, and nothing outside it.

    The root itself is named by the user (``--from``, ``--artifacts-root``), so a link in its own
    path is theirs and is followed; below it, no link is.
    """

    def __init__(self, root: Path) -> None:
        real = Path(os.path.realpath(root))
        if not real.is_dir():
            raise NotFound(f"folder {str(root)!r} not found")
        if os.open not in os.supports_dir_fd:
            raise InvalidInput("reading a store safely needs open() with dir_fd (POSIX)")
        self.root = real
        # A location may name the root as the user wrote it or as it resolves; each as the
        # prefix of a path below it (text: Path arithmetic cost most of a small file's read).
        names = dict.fromkeys((str(real), os.path.abspath(root)))
        self._prefixes = tuple((n, n if n.endswith(os.sep) else n + os.sep) for n in names)

    def __repr__(self) -> str:
        return f"ConfinedFolder({str(self.root)!r})"

    def contains(self, path: Path) -> bool:
        return self._parts(path) is not None

    def read_bytes(self, path: Path) -> bytes:
        """The bytes of the regular file ``path``.

        Raises:
            Refused: ``path`` is outside the root, or a link or not a regular file on the way.
            OSError: it does not exist or cannot be read.
        """
        with os.fdopen(self._open_file(path), "rb") as file:
            return file.read()

    @contextmanager
    def pinned(self, path: Path) -> Iterator[tuple[Path, int]]:
        """A path naming the very file checked (through its open descriptor where the system
        gives one a path), and its size, for a copy that opens the file itself."""
        fd = self._open_file(path)
        try:
            size = os.fstat(fd).st_size
            yield (_FD_FOLDER / str(fd) if _FD_FOLDER else path), size
        finally:
            os.close(fd)

    def kind(self, path: Path) -> str | None:
        """``"folder"``, ``"file"``, the reason it is neither, or ``None`` when missing.

        Raises:
            Refused: a folder on the way is a link, or ``path`` is outside the root.
        """
        parts = self._checked_parts(path)
        if not parts:
            return "folder"
        fd = self._open_folder(parts[:-1])
        try:
            return _kind(os.lstat(parts[-1], dir_fd=fd).st_mode)
        except FileNotFoundError:
            return None
        finally:
            os.close(fd)

    def entries(self, folder: Path) -> list[tuple[str, str]]:
        """(name, kind) of each entry of ``folder``, sorted; kind as ``kind`` gives it, nothing
        when the folder is missing.

        Raises:
            Refused: ``folder`` (or a folder on its way) is a link or not a folder.
        """
        try:
            fd = self._open_folder(self._checked_parts(folder))
        except FileNotFoundError:
            return []
        try:
            with os.scandir(fd) as found:
                entries = [(e.name, _kind(e.stat(follow_symlinks=False).st_mode)) for e in found]
        finally:
            os.close(fd)
        return sorted(entries)

    def files(self, folder: Path) -> Iterator[tuple[str, Path, str | None]]:
        """(key, path, why it is not read or ``None``) of every file below ``folder``, keys
        relative to it with ``/``, in a stable order; a linked folder is listed, not entered.

        Raises:
            Refused: ``folder`` itself (or a folder on its way) is a link or not a folder.
        """
        yield from self._files(folder, "")

    def _files(self, folder: Path, prefix: str) -> Iterator[tuple[str, Path, str | None]]:
        for name, kind in self.entries(folder):
            key, path = prefix + name, folder / name
            if kind == "folder":
                yield from self._files(path, key + "/")
            else:
                yield key, path, None if kind == "file" else kind

    def _open_file(self, path: Path) -> int:
        parts = self._checked_parts(path)
        if not parts:
            raise Refused(NOT_REGULAR)
        folder = self._open_folder(parts[:-1])
        try:
            why = _kind(os.lstat(parts[-1], dir_fd=folder).st_mode)
            if why != "file":
                raise Refused(NOT_REGULAR if why == "folder" else why)
            fd = _open(parts[-1], _FILE_FLAGS, folder)
        finally:
            os.close(folder)
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since the check
            os.close(fd)
            raise Refused(NOT_REGULAR)
        return fd

    def _open_folder(self, parts: tuple[str, ...]) -> int:
        fd = os.open(self.root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            for part in parts:
                inner = _open(part, _FOLDER_FLAGS, fd)
                os.close(fd)
                fd = inner
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _checked_parts(self, path: Path) -> tuple[str, ...]:
        parts = self._parts(path)
        if parts is None:
            raise Refused(f"outside {self.root}")
        return parts

    def _parts(self, path: Path) -> tuple[str, ...] | None:
        # normpath folds ``..`` into the path before the check; no part of the result is a link
        # (each is opened without following one), so what is checked is what is read.
        target = os.path.normpath(os.path.abspath(path))
        for name, prefix in self._prefixes:
            if target == name:
                return ()
            if target.startswith(prefix):
                return tuple(target[len(prefix) :].split(os.sep))
        return None


def _open(name: str, flags: int, folder: int) -> int:
    try:
        return os.open(name, flags, dir_fd=folder)
    except OSError as exc:
        # O_NOFOLLOW refuses a link with ELOOP (EMLINK on FreeBSD); O_DIRECTORY with ENOTDIR.
        if exc.errno in (errno.ELOOP, errno.EMLINK, errno.ENOTDIR):
            why = _kind(os.lstat(name, dir_fd=folder).st_mode)
            raise Refused(NOT_FOLDER if why in ("file", "folder") else why) from None
        raise


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISREG(mode):
        return "file"
    return LINK if stat.S_ISLNK(mode) else NOT_REGULAR
