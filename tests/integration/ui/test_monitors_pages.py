"""The monitors pages: a monitor run over records written as model servers write them, its
drift per column charted over time, a column's reference and current histograms overlaid for
a chosen window, data quality, outliers, performance per arm and segment, and its alerts;
unknown names, windows and columns are error pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import numpy as np
import pandas as pd
import pytest

from gnomon._types import now_ms
from gnomon.data.service import DatasetService
from gnomon.deployments.service import DeploymentService
from gnomon.modelfolder.contract import ColumnSpec, Contract
from gnomon.modelfolder.folder import save_model
from gnomon.monitoring.alert_rules import AlertRule
from gnomon.monitoring.entities import MonitorSpec
from gnomon.monitoring.service import MonitorService
from gnomon.predictions.entities import Outcome, PredictionRecord
from gnomon.predictions.records import OutcomeWriter, RecordWriter
from gnomon.predictions.storage import predictions_store
from gnomon.tracking.entities import RunStatus
from tests.integration.ui.conftest import PASSWORD, WORKSPACE, UiServer, console_errors, login

if TYPE_CHECKING:
    from playwright.sync_api import Page

MODEL = "churn-watch"
DEPLOYMENT = "watched"
MONITOR = "watched-drift"
TEAM = {"workspace": WORKSPACE}
HOUR = 3_600_000
COUNTRIES = ["FR", "DE", "ES"]
# Per hour of records: the shift of x and the share of each country (the first as trained).
HOURS = [(0.0, [0.5, 0.3, 0.2]), (1.5, [0.2, 0.2, 0.6]), (2.0, [0.2, 0.2, 0.6])]


def rows(count: int, seed: int, shift: float, weights: list[float]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"x": rng.normal(shift, 1.0, count), "country": rng.choice(COUNTRIES, count, p=weights)}
    )


def _register(ui_server: UiServer, home: Path) -> None:
    """``churn-watch`` version 1, trained on ``watch-train@1``, whose contract is x, country."""
    from sklearn.linear_model import LogisticRegression

    services, scope = ui_server.live.services, ui_server.scope
    training = rows(600, 0, 0.0, [0.5, 0.3, 0.2])
    table = home / "train.csv"
    training.to_csv(table, index=False)
    services.get(DatasetService).add(scope, table, "watch-train")
    tracking = services.tracking
    run = tracking.create_run(scope, tracking.create_experiment(scope, "monitors-ui").id, "train")
    model = LogisticRegression().fit(training[["x"]], (training["x"] > 0).astype(int))
    contract = Contract(
        [ColumnSpec("x", "float64"), ColumnSpec("country", "string", categories=COUNTRIES)],
        [ColumnSpec("label", "int64")],
    )
    folder = home / "model"
    save_model(
        model, folder, contract=contract, source_run_id=run.id, training_data="watch-train@1"
    )
    tracking.log_artifact(scope, run.id, folder)
    assert services.registrar is not None
    services.registrar.record_logged_model(scope, run.id, "model")
    services.registrar.register(scope, f"runs:/{run.id}/model", MODEL)
    tracking.end_run(scope, run.id, RunStatus.FINISHED)


@pytest.fixture(scope="module")
def watched(ui_server: UiServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three hours of records (the last two drifted, a tenth of them from a canary) with
    their outcomes, and a monitor of hourly windows segmented by country, with a drift-share
    rule, run over them."""
    services, scope = ui_server.live.services, ui_server.scope
    _register(ui_server, tmp_path_factory.mktemp("monitors"))
    services.get(DeploymentService).create(scope, DEPLOYMENT, f"{MODEL}/1")
    store = predictions_store(ui_server.live.settings.artifact_root, scope.workspace)
    now = now_ms()
    first = now - now % HOUR - 4 * HOUR
    records, outcomes = [], []
    for hour, (shift, weights) in enumerate(HOURS):
        frame = rows(200, hour + 1, shift, weights)
        for i, (x, country) in enumerate(zip(frame["x"], frame["country"], strict=True)):
            at, request_id = first + hour * HOUR + i * 1000, f"h{hour}-{i}"
            role, version = ("canary", 2) if i % 10 == 0 else ("primary", 1)
            inputs = {"x": float(x), "country": str(country)}
            answer = int(x > 0)
            records.append(
                PredictionRecord(
                    request_id, at, DEPLOYMENT, MODEL, version, inputs, answer, 2.0, role
                )
            )
            outcomes.append(Outcome(request_id, at, DEPLOYMENT, int(x > 0.3)))
    for writer, items in ((RecordWriter(store), records), (OutcomeWriter(store), outcomes)):
        writer.submit(items)
        writer.close()
    monitors = services.get(MonitorService)
    spec = MonitorSpec(DEPLOYMENT, window_s=3600, segment="country", task="classification")
    monitors.create(scope, MONITOR, spec)
    monitors.set_rule(scope, AlertRule("drift-high", MONITOR, "drift.share", ">", 0.4))
    done = monitors.run(scope, MONITOR)
    assert sum(w.rows for w in done.windows) == 600
    return MONITOR


@contextmanager
def logged_in(server: UiServer, user: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as client:
        body = {"username": user, "password": PASSWORD}
        answer = client.post("/login", data=body, follow_redirects=False)
        assert answer.status_code == 303 and client.cookies.get("gnomon_session")
        yield client


def test_a_monitor_charts_drift_and_overlays_a_columns_histograms(
    page: Page, ui_server: UiServer, watched: str
) -> None:
    errors = console_errors(page)
    login(page, ui_server, "viewer")
    page.goto(f"{ui_server.url}/monitors")
    page.click(f"a:text('{MONITOR}')")
    drift = page.locator("figure.chart[data-chart=drift]")
    drift.locator("canvas").wait_for()
    assert drift.get_attribute("data-drawn") == "true"
    assert int(drift.get_attribute("data-points") or 0) >= 6  # two columns, three windows
    for chart in ("dataset-drift", "quality", "outliers", "performance", "segments"):
        figure = page.locator(f"figure.chart[data-chart={chart}]")
        assert figure.get_attribute("data-drawn") == "true", chart
    # The newest window with records is detailed: it drifted, so a column drifts first.
    assert page.locator("#drift-table tbody tr").first.locator(".status.drift").count() == 1
    histogram = page.locator("#histogram svg")
    assert histogram.count() == 1
    assert histogram.locator("g.series-0 rect").count() > 0
    assert histogram.locator("g.series-1 rect").count() > 0

    page.select_option("#window-form select[name=column]", "country")
    page.wait_for_url("**column=country**")
    assert page.locator("#histogram").get_attribute("data-column") == "country"
    assert page.locator("#histogram svg.categories g.series-1 rect").count() == 3
    arms = page.locator("#performance-arms tbody tr")
    assert [arms.nth(i).get_attribute("data-arm") for i in range(arms.count())] == [
        "overall",
        "canary",
        "primary",
    ]
    assert page.locator("#performance-segments tbody tr").count() == 3
    assert page.locator("#quality tbody tr").count() == 2
    rule = page.locator("#rules tr[data-rule=drift-high]")
    assert rule.locator(".status").inner_text() == "firing"
    assert page.locator("#alert-events tr[data-kind=fired]").count() == 1
    assert errors == []


def test_unknown_monitors_windows_and_columns_are_error_pages(
    ui_server: UiServer, watched: str
) -> None:
    monitors = ui_server.live.services.get(MonitorService)
    windows = monitors.results(ui_server.scope, MONITOR)
    if "never-run" not in {m.name for m in monitors.list(ui_server.scope)}:
        monitors.create(ui_server.scope, "never-run", MonitorSpec(DEPLOYMENT))
    first = windows[0].start_ms
    with logged_in(ui_server, "viewer") as client:
        listing = client.get("/monitors", params={**TEAM, "q": DEPLOYMENT})
        assert listing.status_code == 200 and f'data-monitor="{MONITOR}"' in listing.text
        shown = client.get(f"/monitors/{MONITOR}", params={**TEAM, "window": first})
        assert shown.status_code == 200 and f'data-start="{first}"' in shown.text
        never_run = client.get("/monitors/never-run", params=TEAM)
        assert never_run.status_code == 200 and 'id="no-windows"' in never_run.text
        cases = [
            ("/monitors/nope", {}, 404, "no monitor"),
            ("/monitors/bad%20name!", {}, 404, "no monitor"),
            (f"/monitors/{MONITOR}", {"window": first + 1}, 404, "no window starting"),
            (f"/monitors/{MONITOR}", {"window": "soon"}, 400, "window"),
            (f"/monitors/{MONITOR}", {"column": "nope"}, 404, "no drift verdict"),
            ("/deployments/nope", {}, 404, "nope"),
        ]
        for path, query, status, said in cases:
            answer = client.get(path, params={**TEAM, **query})
            assert answer.status_code == status, (path, query)
            assert said in answer.text and 'role="alert"' in answer.text
