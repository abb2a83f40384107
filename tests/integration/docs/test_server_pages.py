"""docs/server.md and mlflow.md run as written (tests/fixtures/doc_runner.py).

One file per group of pages, so that ``pytest -n 2 --dist loadfile`` runs groups side by side.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.docs.pages import runs_as_written

PAGES = ["server.md", "mlflow.md"]


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_as_written(page: str, tmp_path: Path) -> None:
    runs_as_written(page, tmp_path)
