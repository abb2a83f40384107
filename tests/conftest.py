from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.s3",
    "tests.fixtures.databases",
    "tests.fixtures.server",
    "tests.fixtures.mlflow_client",
    "tests.fixtures.browser",
    "tests.fixtures.monitoring",
    "tests.fixtures.monitoring_server",
    "tests.fixtures.ray_slot",
]


@pytest.fixture
def gnomon_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An isolated embedded gnomon: its own GNOMON_HOME, and a fresh fluent state."""
    from gnomon import backends
    from gnomon.tracking import fluent

    home = tmp_path / "home"
    for name in ("GNOMON_URI", "GNOMON_ARTIFACTS", "GNOMON_WORKSPACE", "GNOMON_EXPERIMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GNOMON_HOME", str(home))
    fluent._reset()
    yield home
    fluent._reset()
    # A test's SQLite file stays open through the pool otherwise: a worker running a thousand
    # such tests ran out of the file descriptors select() can watch.
    backends.close_databases()
