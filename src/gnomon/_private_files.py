"""Folders and files only their owner can open: the database, artifacts, records, tokens.

Modes are set explicitly after creation, so a permissive umask (022 makes 0755 folders and
0644 files) never leaves models, metrics or credentials readable by other local users.
Folders and files that already exist keep their mode: an operator may share one on purpose.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def make_private_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents, each one this call creates 0700.

    Raises:
        OSError: as ``Path.mkdir`` does, e.g. ``NotADirectoryError`` when a parent is a file.
    """
    missing = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(PRIVATE_DIR)
        except FileExistsError:
            continue  # made concurrently by another writer; not ours to chmod
        # mkdir's mode is filtered by the umask, which may remove owner bits too.
        folder.chmod(PRIVATE_DIR)


def open_private(path: Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_EXCL) -> int:
    """``os.open`` a file for writing, mode 0600 whatever the umask; returns the descriptor.

    The default flags create a new file and fail with ``FileExistsError`` if it exists.
    """
    descriptor = os.open(path, flags, PRIVATE_FILE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (its mode is then kept)."""
    with contextlib.suppress(FileExistsError):
        os.close(open_private(path))


__all__ = [
    "PRIVATE_DIR",
    "PRIVATE_FILE",
    "create_private_file",
    "make_private_dirs",
    "open_private",
]
