"""Profile pages in a real browser (tests/fixtures/browser.py): the charts render, a
comparison draws both versions, and hostile column names and values stay text."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

import gnomon

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

HOSTILE = "<script>alert(1)</script>"
HOSTILE_VALUE = '<img src=x onerror="alert(2)">'
NUMERIC = ["amount", "age", HOSTILE]


def frame(seed: int, rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            "amount": rng.normal(100 + 20 * seed, 10, rows),
            "age": rng.integers(18, 90, rows),
            "city": rng.choice(["Lyon", "Oslo", HOSTILE_VALUE], rows),
            HOSTILE: rng.normal(size=rows),
        }
    )
    data.loc[::10, "amount"] = np.nan
    return data


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    client = gnomon.Client()
    client.datasets.log(frame(0), "orders")
    client.datasets.log(frame(1, rows=300), "orders")
    return client


def opened(page: Page, html: str, path: Path) -> list[str]:
    """Open the page from a file, as a user would; the dialogs any script tried to open."""
    path.write_text(html, encoding="utf-8")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return dialogs


def drawn(locator: Locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["width"] > 0 and box["height"] > 0


def assert_safe(page: Page, dialogs: list[str]) -> None:
    assert dialogs == []
    assert page.locator("script").count() == 0 and page.locator("img").count() == 0
    assert page.get_by_role("heading", name=f"{HOSTILE} float").is_visible()
    assert page.get_by_text(HOSTILE_VALUE, exact=True).first.count() == 1


def test_a_comparison_renders_both_versions(
    client: gnomon.Client, page: Page, tmp_path: Path
) -> None:
    html = client.datasets.profile_html("orders@2", compare="orders@1")
    dialogs = opened(page, html, tmp_path / "compare.html")
    histograms = page.locator("svg.histogram")
    assert histograms.count() == len(NUMERIC)
    names = [histograms.nth(i).get_attribute("data-column") for i in range(len(NUMERIC))]
    assert names == NUMERIC
    for i in range(len(NUMERIC)):
        chart = histograms.nth(i)
        assert drawn(chart)
        assert drawn(chart.locator("g.series-0")) and drawn(chart.locator("g.series-1"))
    categories = page.locator("svg.top-values")
    assert categories.count() == 1 and drawn(categories)
    assert drawn(categories.locator("g.series-0")) and drawn(categories.locator("g.series-1"))
    missing = page.locator("svg.missing")
    assert drawn(missing) and drawn(missing.locator("g.series-0"))
    heatmaps = page.locator("svg.heatmap")
    assert heatmaps.count() == 3  # each version, and the change
    assert all(drawn(heatmaps.nth(i)) for i in range(3))
    assert heatmaps.nth(0).locator("rect").count() == len(NUMERIC) ** 2
    assert_safe(page, dialogs)


def test_one_version_draws_one_series(client: gnomon.Client, page: Page, tmp_path: Path) -> None:
    dialogs = opened(page, client.datasets.profile_html("orders@1"), tmp_path / "one.html")
    histograms = page.locator("svg.histogram")
    assert histograms.count() == len(NUMERIC)
    assert all(drawn(histograms.nth(i).locator("g.series-0")) for i in range(len(NUMERIC)))
    assert page.locator("g.series-1").count() == 0
    assert page.locator("svg.heatmap").count() == 1
    assert_safe(page, dialogs)
