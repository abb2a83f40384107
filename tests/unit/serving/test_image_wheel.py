"""The gnomon wheel an image installs: built from this checkout or packed from an installed
gnomon, cached by version and content."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import gnomon
from gnomon._version import __version__
from gnomon.serving.image_wheel import (
    build_from_source,
    gnomon_wheel,
    repack_installed,
    source_root,
)
from tests.unit.serving.image_checks import WHEEL

INFO = f"gnomon-{__version__}.dist-info"


@pytest.fixture(scope="module")
def built(wheel_cache: Path) -> Path:
    """The wheel of this checkout, built as build-image builds it by default."""
    return gnomon_wheel(wheel_cache)


def _project(root: Path, body: str) -> Path:
    """A small hatchling project named gnomon, the layout of the real one."""
    (root / "src" / "gnomon").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        '[project]\nname = "gnomon"\ndynamic = ["version"]\nrequires-python = ">=3.11"\n'
        '[tool.hatch.version]\npath = "src/gnomon/_version.py"\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["src/gnomon"]\n'
    )
    (root / "src" / "gnomon" / "_version.py").write_text('__version__ = "9.8.7"\n')
    (root / "src" / "gnomon" / "__init__.py").write_text(body)
    return root


def test_this_checkout_is_a_source_root() -> None:
    root = source_root()
    assert root is not None and Path(gnomon.__file__).resolve().is_relative_to(root / "src")


def test_the_default_wheel_is_this_gnomon(built: Path) -> None:
    assert built.name == WHEEL
    with zipfile.ZipFile(built) as wheel:
        assert (
            wheel.read("gnomon/_version.py")
            == Path(gnomon.__file__).with_name("_version.py").read_bytes()
        )
        entry_points = wheel.read(f"{INFO}/entry_points.txt").decode()
    assert "gnomon = gnomon.cli.app:main" in entry_points


def test_a_source_build_is_cached_by_content(tmp_path: Path) -> None:
    root = _project(tmp_path / "project", "ANSWER = 1\n")
    cache = tmp_path / "cache"
    first = build_from_source(root, cache)
    assert first.name == "gnomon-9.8.7-py3-none-any.whl" and first.parent.parent == cache
    built_at = first.stat().st_mtime_ns
    assert build_from_source(root, cache) == first and first.stat().st_mtime_ns == built_at
    (root / "src" / "gnomon" / "__init__.py").write_text("ANSWER = 2\n")
    second = build_from_source(root, cache)
    assert second != first and second.parent.name.startswith("9.8.7-")
    with zipfile.ZipFile(second) as wheel:
        assert wheel.read("gnomon/__init__.py") == b"ANSWER = 2\n"
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no staging left


def test_a_failed_build_says_why(tmp_path: Path) -> None:
    from gnomon.errors import Unavailable

    root = _project(tmp_path / "project", "")
    (root / "pyproject.toml").write_text("[project\nbroken")
    with pytest.raises(Unavailable, match="building a gnomon wheel from"):
        build_from_source(root, tmp_path / "cache")
    assert not list((tmp_path / "cache").iterdir())


def _install(wheel: Path, site: Path) -> importlib.metadata.Distribution:
    """What an installer leaves behind: the files, bytecode, a script and its own records."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    (site / "gnomon" / "__pycache__").mkdir(exist_ok=True)
    (site / "gnomon" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"bytecode")
    (site / INFO / "INSTALLER").write_text("pip\n")
    record = (site / INFO / "RECORD").read_text()
    record += f"gnomon/__pycache__/x.cpython-311.pyc,,\n{INFO}/INSTALLER,,\n../../../bin/gnomon,,\n"
    (site / INFO / "RECORD").write_text(record)
    return importlib.metadata.PathDistribution(site / INFO)


def test_an_installed_gnomon_is_packed_back_into_its_wheel(built: Path, tmp_path: Path) -> None:
    dist = _install(built, tmp_path / "site")
    packed = repack_installed(dist, tmp_path / "cache")
    assert packed.name == WHEEL
    with zipfile.ZipFile(built) as original, zipfile.ZipFile(packed) as again:
        names = set(again.namelist())
        assert names == set(original.namelist())  # no bytecode, installer files or scripts
        for name in names - {f"{INFO}/RECORD"}:
            assert again.read(name) == original.read(name), name
        record = again.read(f"{INFO}/RECORD").decode().splitlines()
        for line in record:
            name, digest, size = line.rsplit(",", 2)
            if name == f"{INFO}/RECORD":
                continue
            data = again.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == f"sha256={expected.decode()}" and int(size) == len(data)
    assert repack_installed(dist, tmp_path / "cache") == packed  # cached

    # pip installs it: the RECORD and metadata are a valid wheel's.
    target = tmp_path / "target"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
         "--target", str(target), str(packed)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (target / "gnomon" / "serving" / "image_wheel.py").is_file()
