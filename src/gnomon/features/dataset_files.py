"""A dataset version's files on this machine, for DuckDB to scan: checked out once into a
cache folder per version (versions never change), atomically, then reused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gnomon._types import Scope
from gnomon.data.entities import TABLE_SUFFIXES
from gnomon.data.service import DatasetService
from gnomon.errors import AlreadyExists, InvalidInput


def dataset_files(
    datasets: DatasetService, scope: Scope, cache: Path
) -> Callable[[str], list[Path]]:
    """``ref`` (``name@version`` or ``name``) → the table files of that version."""

    def files(ref: str) -> list[Path]:
        version = datasets.version(scope, ref)
        folder = cache / scope.workspace / version.dataset / str(version.version)
        if not folder.is_dir():
            folder.parent.mkdir(parents=True, exist_ok=True)
            try:
                datasets.checkout(scope, f"{version.dataset}@{version.version}", folder)
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
