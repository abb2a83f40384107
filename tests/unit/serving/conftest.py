"""Fixtures the image tests share."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of gnomon wheels for every context the session writes: this checkout's wheel
    is built once (its key is the source's content), as build-image keeps it between runs."""
    return tmp_path_factory.mktemp("wheels")
