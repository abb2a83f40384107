"""docs/pipelines.md run as written (tests/fixtures/doc_runner.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.ray_slot import SLOT_TIMEOUT
from tests.integration.docs.pages import runs_as_written

PAGES = ["pipelines.md"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.usefixtures("one_ray_at_a_time")  # the page starts a local Ray
@pytest.mark.timeout(SLOT_TIMEOUT)
def test_page_runs_as_written(page: str, tmp_path: Path) -> None:
    runs_as_written(page, tmp_path)
