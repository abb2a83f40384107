from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.server import LiveServer


@pytest.fixture(params=["embedded", "remote"])
def mode(
    request: pytest.FixtureRequest, gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Run the test twice: on an embedded gnomon, then with GNOMON_URI at a live server."""
    if request.param == "remote":
        live: LiveServer = request.getfixturevalue("open_server")
        monkeypatch.setenv("GNOMON_URI", live.url)
    yield request.param
