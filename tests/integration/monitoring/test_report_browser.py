"""The monitor report in a real browser (tests/fixtures/browser.py): opened from a file under
its own Content-Security-Policy, it logs no error, its styles apply, its SVG charts are drawn,
and hostile column names and categories stay text."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gnomon.monitoring.drift import Reference, drift_report
from gnomon.monitoring.entities import Monitor, MonitorSpec, WindowResult, figure
from gnomon.monitoring.report_html import POLICY, report_html

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

HOUR = 3_600_000
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_CATEGORY = "</style><script>alert(2)</script>"
WINDOWS = 5  # the third has no records


def columns(rows: int, seed: int, shift: float) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "age": rng.normal(40 + shift, 10, rows),
        HOSTILE: rng.normal(shift / 10, 1, rows),
        "plan": rng.choice(["basic", "pro", HOSTILE_CATEGORY], rows),
    }


def windows() -> list[WindowResult]:
    reference = Reference.from_columns(columns(500, 0, 0.0))
    found = []
    for hour in range(WINDOWS):
        start, end = hour * HOUR, (hour + 1) * HOUR
        if hour == 2:
            found.append(WindowResult("web", start, end, 0, (figure("rows", 0.0, "rows"),), {}, 0))
            continue
        report = drift_report(reference, columns(300, hour + 1, 6.0 * hour))
        figures = [figure("rows", 300.0, "rows"), figure("drift.share", report.drift_share, "s")]
        for c in report.columns:
            figures.append(figure(f"drift.score.{c.column}", c.statistic, "drift_score"))
            figures.append(figure(f"drift.detected.{c.column}", float(c.status == "drift"), "d"))
        figures.append(figure("outliers.rate", 0.01 * hour, "outlier_rate"))
        outliers = {"rate": 0.01, "threshold": 3.0, "top": [{"request_id": HOSTILE, "score": 5.0}]}
        details = {"drift": report.to_dict(), "outliers": outliers}
        found.append(WindowResult("web", start, end, 300, tuple(figures), details, 0))
    return found


def opened(page: Page, html: str, path: Path) -> tuple[list[str], list[str]]:
    """Open the page from a file, as a user would; the console's errors and any dialog a
    script tried to open."""
    path.write_text(html, encoding="utf-8")
    errors: list[str] = []
    dialogs: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return errors, dialogs


def drawn(locator: Locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["width"] > 0 and box["height"] > 0


def test_the_report_renders_its_charts_under_its_policy(page: Page, tmp_path: Path) -> None:
    monitor = Monitor("m-1", "ws-1", "web-drift", MonitorSpec("web"), 0, "ada", 0)
    errors, dialogs = opened(page, report_html(monitor, windows()), tmp_path / "report.html")
    assert errors == [] and dialogs == []
    policy = page.locator('meta[http-equiv="Content-Security-Policy"]')
    assert policy.get_attribute("content") == POLICY
    # Inline styles are allowed by the policy, so they apply: drifting rows are highlighted.
    drifting = page.locator("table.drift tr.drift td").first
    assert (
        drifting.evaluate("cell => getComputedStyle(cell).backgroundColor") == "rgb(253, 240, 238)"
    )
    charts = page.locator("svg.chart")
    assert charts.count() >= 7  # share, 3 scores, 2 histograms, categories, outliers
    assert all(drawn(charts.nth(i)) for i in range(charts.count()))
    share = page.locator("svg.drift-share")
    assert drawn(share.locator("path").nth(1))  # the line itself, not only the axes
    assert share.locator("circle.point").count() == WINDOWS
    assert share.locator("circle.point.missing").count() == 1
    scores = page.locator("svg.drift-score")
    assert scores.count() == 3
    assert all(scores.nth(i).locator("circle.point").count() == WINDOWS for i in range(3))
    histogram = page.locator(f'svg.histogram[data-column="{HOSTILE}"]')
    assert drawn(histogram.locator("g.series-0")) and drawn(histogram.locator("g.series-1"))
    categories = page.locator("svg.categories")
    assert drawn(categories.locator("g.series-0")) and drawn(categories.locator("g.series-1"))
    assert page.locator("script").count() == 0 and page.locator("img").count() == 0
    assert page.get_by_role("cell", name=HOSTILE, exact=True).count() == 2  # drift, outliers
    assert categories.get_by_text(HOSTILE_CATEGORY[:23]).count() == 1  # cut to fit its label


def test_the_empty_report_renders(page: Page, tmp_path: Path) -> None:
    monitor = Monitor("m-1", "ws-1", "web-drift", MonitorSpec("web"), 0, "ada", 0)
    errors, dialogs = opened(page, report_html(monitor, []), tmp_path / "empty.html")
    assert errors == [] and dialogs == []
    assert page.get_by_text("No window has been evaluated yet").is_visible()
    assert page.locator("svg").count() == 0
