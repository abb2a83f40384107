"""``LocalArtifactStore.put_files``: many files, each atomic, durable together."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gnomon.artifacts.local import LocalArtifactStore
from gnomon.artifacts.store import BulkWriter
from gnomon.errors import InvalidInput


def sources(folder: Path, count: int) -> list[Path]:
    folder.mkdir()
    paths = []
    for index in range(count):
        path = folder / f"f{index}"
        path.write_bytes(os.urandom(100 + index))
        paths.append(path)
    return paths


def every_file(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_writes_every_file_and_reports_sizes(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    assert isinstance(store, BulkWriter)
    files = sources(tmp_path / "src", 12)
    sizes: list[int] = []
    store.put_files([(p, f"objs/{p.name[:2]}/{p.name}") for p in files], sizes.append)
    assert sorted(sizes) == sorted(p.stat().st_size for p in files)
    for path in files:
        assert store.get_bytes(f"objs/{path.name[:2]}/{path.name}") == path.read_bytes()
    stored = tmp_path / "root" / "objs" / "f1" / "f1"
    assert stored.stat().st_mode & 0o777 == 0o600


def test_a_failure_leaves_no_file_and_no_temporary(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    files = sources(tmp_path / "src", 6)
    files[4].unlink()  # vanishes between the scan and the copy
    with pytest.raises(FileNotFoundError):
        store.put_files([(p, f"objs/{p.name}") for p in files])
    assert every_file(tmp_path / "root") == []


def test_a_bad_key_writes_nothing(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    files = sources(tmp_path / "src", 2)
    with pytest.raises(InvalidInput):
        store.put_files([(files[0], "ok"), (files[1], "../escape")])
    assert not (tmp_path / "root").exists() or every_file(tmp_path / "root") == []


def test_replaces_what_was_there(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    store.put_bytes(b"old", "k")
    (source := tmp_path / "new").write_bytes(b"new")
    store.put_files([(source, "k")])
    assert store.get_bytes("k") == b"new"
