"""Checking a version out into a new folder, the same way embedded and through a server:
files are written into a staging folder beside the destination, which is renamed into place
once every file is there and checked, so a failure leaves nothing behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from gnomon.errors import InvalidInput


def check_destination(dest: Path) -> None:
    """Refuse a destination that is a link, a file, or a folder holding anything: a checkout
    never writes over someone's files."""
    if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
        raise InvalidInput(
            f"'{dest}' exists and is not an empty folder: check out into a new one",
            {"path": str(dest)},
        )


def restore(dest: Path, fill: Callable[[Path], None]) -> Path:
    """``fill`` writes the version into a staging folder, then it becomes ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.gnomon-", dir=dest.parent))
    try:
        fill(staging)
        if dest.exists():
            dest.rmdir()
        os.rename(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest
