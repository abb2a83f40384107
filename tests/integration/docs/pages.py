"""Where the pages are, and the one test every page file runs."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.doc_runner import check_page

DOCS = Path(__file__).parents[3] / "docs"


def runs_as_written(page: str, tmp_path: Path) -> None:
    check_page(DOCS / page, tmp_path)
