"""A model folder holds regular files only, and is checked against recorded digests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gnomon.errors import InvalidInput
from gnomon.modelfolder import MODEL_FILE, load_folder
from gnomon.modelfolder.hashing import hash_folder, spec_digest, verify_recorded
from tests.fixtures.payloads import PICKLE, rewrite_spec, tamper, write_hostile_model


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_hostile_model(tmp_path / "model", tmp_path / "marker")


def test_a_linked_model_file_is_refused_before_loading(folder: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.joblib"
    (folder / PICKLE).replace(outside)
    os.symlink(outside, folder / PICKLE)  # reads a file the hashes were not taken of

    with pytest.raises(InvalidInput, match=f"symbolic link '{PICKLE}'"):
        load_folder(folder)
    assert not (tmp_path / "marker").exists()


def test_a_linked_folder_is_refused(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", folder / "sub")

    with pytest.raises(InvalidInput, match="symbolic link 'sub'"):
        hash_folder(folder)


def test_a_linked_yaml_is_refused(folder: Path, tmp_path: Path) -> None:
    (folder / MODEL_FILE).replace(tmp_path / "spec.yaml")
    os.symlink(tmp_path / "spec.yaml", folder / MODEL_FILE)

    with pytest.raises(InvalidInput, match="symbolic link"):
        load_folder(folder)
    with pytest.raises(InvalidInput, match="symbolic link"):
        spec_digest(folder)


def test_recorded_digests_win_over_the_yaml(folder: Path, tmp_path: Path) -> None:
    files, digest = hash_folder(folder), spec_digest(folder)
    verify_recorded(folder, files, digest)

    tamper(folder, tmp_path / "other")  # a new payload, and a YAML that agrees with it

    with pytest.raises(InvalidInput, match=f"'{PICKLE}'.*recorded sha256"):
        verify_recorded(folder, files, digest)


def test_a_rewritten_yaml_alone_is_named(folder: Path) -> None:
    files, digest = hash_folder(folder), spec_digest(folder)
    rewrite_spec(folder, flavor="pyfunc", loader={"file": PICKLE})

    with pytest.raises(InvalidInput, match=MODEL_FILE):
        verify_recorded(folder, files, digest)


def test_nothing_recorded_is_refused(folder: Path) -> None:
    with pytest.raises(InvalidInput, match="no recorded sha256"):
        verify_recorded(folder, hash_folder(folder), None)
