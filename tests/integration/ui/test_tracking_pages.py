"""The tracking pages in a real browser: log in, open an experiment, filter its runs (a bad
filter said next to the box), open a run and see its chart drawn from the logged points,
compare two runs."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from gnomon.tracking.entities import Metric, RunStatus
from tests.integration.ui.conftest import UiServer, console_errors, logged_in, login

if TYPE_CHECKING:
    from playwright.sync_api import Page

STEPS = 50


@pytest.fixture(scope="module")
def logged(ui_server: UiServer) -> dict[str, str]:
    """An experiment with three runs: lr 0.1/0.2/0.3, ``loss`` over 50 steps each."""
    tracking = ui_server.live.services.tracking
    scope = ui_server.scope
    experiment = tracking.create_experiment(scope, "churn")
    ids = {}
    for i, lr in enumerate((0.1, 0.2, 0.3)):
        run = tracking.create_run(scope, experiment.id, f"run-{i}", start_time=1_000 + i)
        points = [Metric("loss", lr / (s + 1), s, 1_000 + s) for s in range(STEPS)]
        points.append(Metric("accuracy", 0.7 + lr, 0, 1_000))
        params = {"lr": str(lr), "model": "rf" if i else "gb"}
        tracking.log_batch(scope, run.id, points, params, {"team": "<b>x</b>"})
        tracking.end_run(scope, run.id, RunStatus.FINISHED)
        ids[f"run-{i}"] = run.id
    ids["experiment"] = experiment.id
    return ids


def test_a_user_logs_in_filters_runs_opens_one_and_compares_two(
    page: Page, ui_server: UiServer, logged: dict[str, str]
) -> None:
    errors = console_errors(page)
    login(page, ui_server, "viewer")
    page.click("text=churn")
    assert page.locator("#runs tbody tr").count() == 3

    page.fill("input[name=filter]", "metrics.accuracy >>")
    page.click("text=Filter")
    assert "invalid filter" in page.locator(".filter-error").inner_text()
    page.fill("input[name=filter]", "params.lr != '0.1'")
    page.click("text=Filter")
    assert page.locator("#runs tbody tr").count() == 2
    assert "filter=params.lr" in page.url  # the filter is in the link, to share

    page.click("a:text('run-1')")
    chart = page.locator("figure.chart[data-drawn=true]")
    chart.wait_for()
    assert chart.get_attribute("data-points") == str(STEPS + 1)  # loss's 50 and accuracy's 1
    assert page.locator("figure.chart canvas").count() == 1
    page.check("figure.chart .log-scale")
    page.locator("figure.chart[data-drawn=true] canvas").wait_for()
    assert page.locator("#params").inner_text().count("0.2") == 1
    assert "<b>x</b>" in page.locator("#tags").inner_text()  # a tag stays text

    page.go_back()
    page.check(f"input[value='{logged['run-1']}']")
    page.check(f"input[value='{logged['run-2']}']")
    page.click("text=Compare selected")
    page.wait_for_url(re.compile(r".*/compare\?.*"))
    assert page.locator("#comparison tr.differs[data-key='params.lr']").count() == 1
    assert page.locator("#comparison tr.same[data-key='params.model']").count() == 1
    assert page.locator("svg.parallel polyline.run").count() == 2
    assert page.locator("figure.chart[data-drawn=true]").count() == 2
    assert errors == []


def test_an_unknown_run_is_a_404_page_and_no_session_goes_to_the_login_form(
    page: Page, ui_server: UiServer
) -> None:
    answer = page.goto(f"{ui_server.url}/runs/nope")
    assert answer is not None and answer.url.startswith(f"{ui_server.url}/login?next=")
    login(page, ui_server, "viewer")
    answer = page.goto(f"{ui_server.url}/runs/{'0' * 32}")
    assert answer is not None and answer.status == 404
    assert "not found" in page.locator(".error").inner_text()


def test_artifacts_are_previewed_and_never_served_as_pages(ui_server: UiServer) -> None:
    tracking = ui_server.live.services.tracking
    scope = ui_server.scope
    experiment = tracking.get_or_create_experiment(scope, "artifacts")
    run = tracking.create_run(scope, experiment.id, "with-files")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    tracking.log_files(
        scope,
        run.id,
        {
            "plots/roc.png": png,
            "data/sample.csv": b"a,b\n1,x\n2,y\n",
            "notes.txt": b"<script>alert(1)</script> hello",
            "report.html": b"<html><script>alert(1)</script></html>",
        },
    )
    with logged_in(ui_server, "viewer") as client:
        ws = {"workspace": "team"}
        table = client.get(f"/runs/{run.id}", params={**ws, "path": "data/sample.csv"})
        assert table.status_code == 200
        assert "<td>x</td>" in table.text and "2 rows" in table.text
        text = client.get(f"/runs/{run.id}", params={**ws, "path": "notes.txt"})
        assert "&lt;script&gt;alert(1)&lt;/script&gt; hello" in text.text
        image = client.get(f"/runs/{run.id}/artifact", params={**ws, "path": "plots/roc.png"})
        assert image.headers["content-type"] == "image/png" and image.content == png
        page = client.get(f"/runs/{run.id}/artifact", params={**ws, "path": "report.html"})
        assert page.headers["content-type"] == "application/octet-stream"
        assert page.headers["content-disposition"].startswith("attachment")
        missing = client.get(f"/runs/{run.id}/artifact", params={**ws, "path": "nope.txt"})
        assert missing.status_code == 404


def test_a_run_page_shows_its_children_diff_and_packages_and_ids_are_not_names(
    ui_server: UiServer,
) -> None:
    """The experiment and child-run searches go by id: an experiment named after another's
    id never stands in for it."""
    tracking = ui_server.live.services.tracking
    scope = ui_server.scope
    real = tracking.create_experiment(scope, "lookalike-target")
    decoy = tracking.create_experiment(scope, real.id)  # named as the other's id
    tracking.create_run(scope, decoy.id, "decoy-run")
    parent = tracking.create_run(scope, real.id, "sweep")
    tracking.create_run(scope, real.id, "trial-0", parent_run_id=parent.id)
    files = {"gnomon/git.diff": b"+added line", "gnomon/requirements.txt": b"numpy==2.0"}
    tracking.log_files(scope, parent.id, files)
    with logged_in(ui_server, "viewer") as client:
        ws = {"workspace": "team"}
        runs = client.get(f"/experiments/{real.id}", params=ws)
        assert runs.status_code == 200
        assert "trial-0" in runs.text and "decoy-run" not in runs.text
        shown = client.get(f"/runs/{parent.id}", params=ws)
        assert shown.status_code == 200
        assert "Child runs" in shown.text and "trial-0" in shown.text
        assert "+added line" in shown.text and "numpy==2.0" in shown.text
        listed = client.get("/", params={**ws, "q": "LOOKALIKE"})
        assert "lookalike-target" in listed.text and "experiments; search" not in listed.text
