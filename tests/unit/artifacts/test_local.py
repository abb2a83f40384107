"""The local store never follows a link or opens a special file planted below its root, and
its filesystem failures reach callers without the local path."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from gnomon.artifacts import ArtifactInfo, LocalArtifactStore
from gnomon.errors import Conflict, InvalidInput, Unavailable

SECRET = b"root:x:0:0:the outside file's content"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the store's root, holding a file no artifact call may reach."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "passwd").write_bytes(SECRET)
    return folder


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    store = LocalArtifactStore(tmp_path / "root")
    store.put_bytes(b"model", "run/model.bin")
    return store


def _root(store: LocalArtifactStore) -> Path:
    return Path(store.root)


def _refused(call: Callable[[], object], key: str) -> None:
    with pytest.raises(InvalidInput) as info:
        call()
    assert info.value.details == {"key": key}
    assert "symbolic link" in info.value.message or "special file" in info.value.message


def test_a_planted_file_link_is_never_read(
    store: LocalArtifactStore, outside: Path, tmp_path: Path
) -> None:
    (_root(store) / "run" / "leak").symlink_to(outside / "passwd")
    _refused(lambda: store.get_bytes("run/leak"), "run/leak")
    _refused(lambda: store.download("run/leak", tmp_path / "dl1"), "run/leak")
    _refused(lambda: store.download("run", tmp_path / "dl2"), "run/leak")
    _refused(lambda: store.list("run"), "run/leak")
    copied = [p.read_bytes() for p in tmp_path.glob("dl*/**/*") if p.is_file()]
    assert SECRET not in copied


def test_a_planted_folder_link_is_never_walked(
    store: LocalArtifactStore, outside: Path, tmp_path: Path
) -> None:
    (_root(store) / "run" / "out").symlink_to(outside, target_is_directory=True)
    _refused(lambda: store.get_bytes("run/out/passwd"), "run/out")
    _refused(lambda: store.download("run/out/passwd", tmp_path / "dl"), "run/out")
    _refused(lambda: store.download("run/out", tmp_path / "dl"), "run/out")
    _refused(lambda: store.list("run/out"), "run/out")
    # Writing or deleting through the link would change files outside the root.
    _refused(lambda: store.put_bytes(b"planted", "run/out/new"), "run/out")
    _refused(lambda: store.delete("run/out/passwd"), "run/out")
    assert sorted(p.name for p in outside.iterdir()) == ["passwd"]
    assert (outside / "passwd").read_bytes() == SECRET
    assert not any(p.is_file() for p in (tmp_path / "dl").rglob("*"))


def test_a_link_as_a_whole_run_folder_is_refused(store: LocalArtifactStore, outside: Path) -> None:
    (_root(store) / "other-run").symlink_to(outside, target_is_directory=True)
    _refused(lambda: store.list(), "other-run")
    _refused(lambda: store.get_bytes("other-run/passwd"), "other-run")


def test_deleting_a_link_removes_the_link_only(store: LocalArtifactStore, outside: Path) -> None:
    (_root(store) / "run" / "out").symlink_to(outside, target_is_directory=True)
    store.delete("run/out")
    assert store.list("run") == [ArtifactInfo("run/model.bin", False, 5)]
    assert (outside / "passwd").read_bytes() == SECRET


def test_writing_over_a_planted_link_replaces_the_link(
    store: LocalArtifactStore, outside: Path
) -> None:
    (_root(store) / "run" / "leak").symlink_to(outside / "passwd")
    store.put_bytes(b"mine", "run/leak")
    assert store.get_bytes("run/leak") == b"mine"
    assert (outside / "passwd").read_bytes() == SECRET


def test_a_planted_fifo_is_refused_without_waiting_for_a_writer(
    store: LocalArtifactStore, tmp_path: Path
) -> None:
    os.mkfifo(_root(store) / "run" / "pipe")
    result: list[BaseException] = []

    def read() -> None:
        try:
            store.get_bytes("run/pipe")
        except BaseException as exc:
            result.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "get_bytes is waiting on a FIFO"
    assert isinstance(result[0], InvalidInput) and "special file" in result[0].message
    _refused(lambda: store.download("run", tmp_path / "dl"), "run/pipe")
    _refused(lambda: store.list("run"), "run/pipe")


def test_a_root_that_cannot_be_made_is_unavailable_without_its_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "private-folder-name"
    blocker.write_text("a file where the root's parent should be")
    store = LocalArtifactStore(blocker / "root")
    with pytest.raises(Unavailable) as info, caplog.at_level(logging.WARNING):
        store.put_bytes(b"x", "run/a")
    assert info.value.message == "the artifact store is unavailable"
    assert info.value.details == {}
    assert "private-folder-name" in caplog.text  # the operator learns where
    with pytest.raises(Unavailable):
        store.check_ready()


def test_a_root_name_the_filesystem_refuses_is_an_outage_not_the_caller_s_fault(
    tmp_path: Path,
) -> None:
    store = LocalArtifactStore(tmp_path / ("r" * 300))  # over NAME_MAX: the operator's choice
    with pytest.raises(Unavailable, match=r"^the artifact store is unavailable$"):
        store.put_bytes(b"x", "k")


def test_a_key_clashing_with_a_file_is_still_a_conflict(store: LocalArtifactStore) -> None:
    with pytest.raises(Conflict, match=r"run/model\.bin/x"):
        store.put_bytes(b"x", "run/model.bin/x")


def test_a_full_path_longer_than_path_max_still_works(tmp_path: Path) -> None:
    # Each step opens one name relative to its folder, so only the key's bounds apply, never
    # the length of root + key (4,096 bytes on Linux).
    root = tmp_path.joinpath(*["r" * 250] * 13)
    key = "/".join(["k" * 250] * 4)
    assert len(f"{root}/{key}") > 4096
    store = LocalArtifactStore(root)
    store.put_bytes(b"deep", key)
    assert store.get_bytes(key) == b"deep"
    assert store.list("/".join(["k" * 250] * 3)) == [ArtifactInfo(key, False, 4)]
    assert store.download(key, tmp_path / "dl").read_bytes() == b"deep"
    store.delete(key)
    assert store.list() == []


def test_the_caller_s_own_folder_errors_are_not_blamed_on_the_store(
    store: LocalArtifactStore, tmp_path: Path
) -> None:
    (tmp_path / "dl" / "model.bin").mkdir(parents=True)  # where the copy would land
    with pytest.raises(IsADirectoryError):
        store.download("run/model.bin", tmp_path / "dl")
