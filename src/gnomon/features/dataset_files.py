"""A dataset version's files on this machine, for DuckDB to scan: checked out once into a
cache folder per version (versions never change), atomically, then reused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gnomon.data.entities import TABLE_SUFFIXES, DatasetVersion
from gnomon.errors import AlreadyExists, InvalidInput


def dataset_files(
    version_of: Callable[[str], DatasetVersion],
    checkout: Callable[[str, Path], Any],
    cache: Path,
) -> Callable[[str], list[Path]]:
    """``ref`` (``name@version`` or ``name``) → the table files of that version, checked out
    under ``cache`` (one folder per workspace and store: a version's files never change)."""

    def files(ref: str) -> list[Path]:
        version = version_of(ref)
        # A name and a number as the store answers them: never a path out of the cache.
        if not _plain(version.dataset) or not isinstance(version.version, int):
            raise InvalidInput(f"dataset {ref!r} came back as {version.dataset[:128]!r}")
        folder = cache / version.dataset / str(version.version)
        if not folder.is_dir():
            folder.parent.mkdir(parents=True, exist_ok=True)
            try:
                checkout(f"{version.dataset}@{version.version}", folder)
            except (AlreadyExists, InvalidInput, OSError):
                if not folder.is_dir():
                    raise
                # another process checked the same version out first: the same bytes
        found = sorted(
            p for p in folder.rglob("*") if p.is_file() and p.name.lower().endswith(TABLE_SUFFIXES)
        )
        if not found:
            raise InvalidInput(f"dataset {ref!r} holds no Parquet or CSV file to read features")
        return found

    return files


def _plain(name: object) -> bool:
    return (
        isinstance(name, str)
        and 0 < len(name) <= 256
        and name not in (".", "..")
        and not any(c in name for c in "/\\\x00")
    )
