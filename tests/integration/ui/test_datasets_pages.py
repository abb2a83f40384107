"""The datasets pages: a dataset's schema, a version's check and profile charts (drawn as SVG
on the server, hostile names kept as text), who used it; long histories paged; errors."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx
import numpy as np
import pandas as pd
import pytest

from gnomon.data.service import DatasetService
from gnomon.registry.entities import NewVersion
from gnomon.tracking.entities import RunStatus
from gnomon.ui.dataset_views import VERSIONS_PER_PAGE
from tests.integration.ui.conftest import PASSWORD, WORKSPACE, UiServer, console_errors, login

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Page

HOSTILE = "<script>alert(1)</script>"
TEAM = {"workspace": WORKSPACE}
HISTORY = VERSIONS_PER_PAGE + 5


def _orders(rows: int, seed: int, cities: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.normal(100, 10, rows),
            "city": rng.choice(cities, rows),
            HOSTILE: rng.integers(0, 5, rows),
        }
    )


@pytest.fixture(scope="module")
def orders(ui_server: UiServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """``orders`` 1 and 2 (2 brings a city the schema never saw), 2 used by a run that made
    ``churn-data`` version 1; and ``logs``, a long history of plain files."""
    home = tmp_path_factory.mktemp("datasets")
    services, scope = ui_server.live.services, ui_server.scope
    datasets = services.get(DatasetService)
    for version, cities in ((1, ["Lyon", "Oslo"]), (2, ["Lyon", "Oslo", "Bergen"])):
        table = home / f"orders-{version}.csv"
        _orders(400, version, cities).to_csv(table, index=False)
        datasets.add(scope, table, "orders")
    experiment = services.tracking.create_experiment(scope, "data-ui")
    run = services.tracking.create_run(scope, experiment.id, "fit")
    datasets.log_input(scope, run.id, "orders@2", "training")
    services.tracking.end_run(scope, run.id, RunStatus.FINISHED)
    assert services.registry is not None
    new = NewVersion(f"runs:/{run.id}/model", "/nowhere", "editor")
    services.registry.create_version(scope, "churn-data", new)
    for i in range(HISTORY):
        note = home / "logs" / "note.txt"
        note.parent.mkdir(exist_ok=True)
        note.write_text(f"line {i}\n")
        datasets.add(scope, note.parent, "logs")
    return run.id


def test_the_dataset_page_shows_the_schema_the_check_and_profile_charts(
    page: Page, ui_server: UiServer, orders: str
) -> None:
    errors = console_errors(page)
    dialogs: list[str] = []

    def seen(dialog: Dialog) -> None:  # a script ran: the page let a name through as markup
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", seen)
    login(page, ui_server, "viewer")
    page.goto(f"{ui_server.url}/datasets")
    page.click("a:text('orders')")
    assert page.locator("#shown-version").get_attribute("data-ref") == "orders@2"
    schema = page.locator("#schema-columns")
    assert schema.locator("tbody tr").count() == 3
    assert HOSTILE in schema.inner_text()  # a column named like a script stays text
    assert "Lyon" in schema.locator("tr[data-column=city]").inner_text()
    assert "unseen_category" in page.locator("#validation").inner_text()

    histogram = page.locator("article[data-column=amount] svg.histogram")
    assert histogram.locator("rect").count() > 5
    box = histogram.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50
    cities = page.locator("article[data-column=city] svg.top-values rect")
    assert cities.count() == 3
    assert page.locator(f"#used-runs a[href^='/runs/{orders}']").count() == 1
    assert "churn-data version 1" in page.locator("#used-models").inner_text()

    page.click("#versions a:text('1')")
    assert page.locator("#shown-version").get_attribute("data-ref") == "orders@1"
    assert "inferred from it" in page.locator("#validation").inner_text()
    assert page.locator("article[data-column=city] svg.top-values rect").count() == 2
    assert "No run recorded" in page.locator("#used-runs").inner_text()
    assert errors == [] and dialogs == []


def test_a_long_history_is_paged_and_errors_are_pages(ui_server: UiServer, orders: str) -> None:
    with httpx.Client(base_url=ui_server.url) as client:
        body = {"username": "viewer", "password": PASSWORD}
        assert client.post("/login", data=body).status_code == 303
        first = client.get("/datasets/logs", params=TEAM)
        assert first.status_code == 200
        rows = re.findall(r'<tr data-version="(\d+)"', first.text)
        assert rows == [str(n) for n in range(HISTORY, HISTORY - VERSIONS_PER_PAGE, -1)]
        assert "not tables: no profile" in first.text and "No schema" in first.text
        older = client.get("/datasets/logs", params={**TEAM, "top": HISTORY - VERSIONS_PER_PAGE})
        rows = re.findall(r'<tr data-version="(\d+)"', older.text)
        assert rows == [str(n) for n in range(HISTORY - VERSIONS_PER_PAGE, 0, -1)]
        assert "Newer versions" in older.text and "Older versions" not in older.text

        unknown = client.get("/datasets/nope", params=TEAM)
        assert unknown.status_code == 404 and 'role="alert"' in unknown.text
        assert client.get("/datasets/orders", params={**TEAM, "version": 9}).status_code == 404
        assert client.get("/datasets/orders", params={**TEAM, "version": 0}).status_code == 400
        assert client.get("/datasets/orders", params={**TEAM, "top": "x"}).status_code == 400
        listing = client.get("/datasets", params={**TEAM, "q": "ORD"})
        assert 'data-dataset="orders"' in listing.text and 'data-dataset="logs"' not in listing.text


def test_the_pages_need_a_session(ui_server: UiServer) -> None:
    answer = httpx.get(f"{ui_server.url}/datasets/orders")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
