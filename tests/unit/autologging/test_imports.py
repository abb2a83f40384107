"""Patching a library when the program imports it, and not importing it for autolog."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gnomon.autologging import patching
from gnomon.autologging.imports import when_imported


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh top-level package on sys.path, not imported yet."""
    name = f"gnomon_test_pkg_{tmp_path.name.replace('-', '_')}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    patching.revert("test-library")
    sys.modules.pop(name, None)


def test_the_callback_runs_once_the_module_has_executed(package: str) -> None:
    seen: list[int] = []
    when_imported("test-library", package, lambda: seen.append(sys.modules[package].VALUE))
    assert seen == [] and patching.patched("test-library")
    module = __import__(package)
    assert seen == [1] and module.__loader__.exec_module.__name__ == "exec_module"
    assert "exec_module" not in vars(module.__loader__)  # the loader is left as it was
    when_imported("test-library", package, lambda: seen.append(2))  # imported: at once
    assert seen == [1, 2]


def test_reverting_before_the_import_drops_the_wait(package: str) -> None:
    seen: list[str] = []
    when_imported("test-library", package, lambda: seen.append("patched"))
    patching.revert("test-library")
    assert not patching.patched("test-library")
    __import__(package)
    assert seen == []


def test_autolog_imports_no_library_and_patches_on_import() -> None:
    script = (
        "import sys, gnomon\n"
        "gnomon.autolog(['xgboost', 'lightgbm', 'pytorch', 'lightning'])\n"
        "heavy = {'xgboost', 'lightgbm', 'torch', 'lightning'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "import lightgbm\n"
        "assert lightgbm.train.__gnomon_autolog__\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
