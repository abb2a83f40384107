from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import gnomon.artifacts
from gnomon.artifacts import LocalArtifactStore, open_artifact_store
from gnomon.errors import InvalidInput


class MemoryStore:
    """Stands in for a third-party store registered through an entry point."""

    def __init__(self, root: str) -> None:
        self.root = root


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installs a distribution on sys.path whose entry point serves ``mem://``."""
    dist_info = tmp_path / "gnomon_mem_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: gnomon-mem-plugin\n")
    (dist_info / "entry_points.txt").write_text(
        f"[gnomon.artifact_stores]\nmem = {__name__}:MemoryStore\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))


def test_bare_path_is_local(tmp_path: Path) -> None:
    store = open_artifact_store(str(tmp_path / "arts"))
    assert isinstance(store, LocalArtifactStore)
    assert store.root == (tmp_path / "arts").as_posix()


def test_relative_path_is_local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_artifact_store("arts")
    assert isinstance(store, LocalArtifactStore)
    assert store.root == (tmp_path / "arts").as_posix()


def test_file_uri_is_local(tmp_path: Path) -> None:
    store = open_artifact_store((tmp_path / "my arts").as_uri())
    assert isinstance(store, LocalArtifactStore)
    assert store.root == (tmp_path / "my arts").as_posix()


def test_file_uri_on_another_host_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="remote host"):
        open_artifact_store("file://fileserver/share/arts")


def test_s3_uri_is_s3_with_the_endpoint() -> None:
    pytest.importorskip("s3fs")
    from gnomon.artifacts.s3 import S3ArtifactStore

    store = open_artifact_store("S3://bucket/prefix/", s3_endpoint_url="http://127.0.0.1:9")
    assert isinstance(store, S3ArtifactStore)
    assert store.root == "s3://bucket/prefix"
    assert store.uri("a/b") == "s3://bucket/prefix/a/b"


def test_s3_root_with_dotdot_is_rejected() -> None:
    pytest.importorskip("s3fs")
    with pytest.raises(InvalidInput, match=r"\.\."):
        open_artifact_store("s3://bucket/a/../b")


def test_s3_without_s3fs_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # None makes the import raise ImportError
    with pytest.raises(InvalidInput, match=r"pip install 'gnomon\[s3\]'"):
        open_artifact_store("s3://bucket/prefix")


def test_plugin_scheme_comes_from_entry_points(plugin: None) -> None:
    store = open_artifact_store("mem://space/arts")
    assert isinstance(store, MemoryStore)
    assert store.root == "mem://space/arts"


def test_unknown_scheme_is_named(plugin: None) -> None:
    with pytest.raises(InvalidInput, match="'gopher'") as info:
        open_artifact_store("gopher://host/arts")
    assert info.value.details == {"scheme": "gopher"}
    assert "file, mem, s3" in info.value.message


def test_exports() -> None:
    assert gnomon.artifacts.__all__ == [
        "ENTRY_POINT_GROUP",
        "ArtifactInfo",
        "ArtifactStore",
        "LocalArtifactStore",
        "ReadinessProbe",
        "open_artifact_store",
    ]


def test_importing_the_package_does_not_import_s3fs() -> None:
    src = Path(gnomon.artifacts.__file__).parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]),
    }
    code = "import sys, gnomon.artifacts; print(sorted({'s3fs', 'botocore'} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
