"""The pipeline pages: a run drawn as the DAG of its steps coloured by status, a step's logs
and artifacts, the lineage of an artifact; errors a user can cause as pages with the right
status."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from gnomon.pipelines.api import PipelinesApi
from gnomon.pipelines.runner import run_pipeline
from tests.integration.ui import pipeline_steps as steps
from tests.integration.ui.conftest import WORKSPACE, UiServer, console_errors, logged_in, login

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.fixture(scope="module")
def runs(ui_server: UiServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Two runs of ``nightly`` in the team workspace: the first succeeds, the second (the
    marker present) reuses two steps, fails one and skips the one below it."""
    api = ui_server.live.services.api(PipelinesApi, ui_server.scope)
    marker = tmp_path_factory.mktemp("marker") / "present"
    spec = steps.nightly.build()
    params = {"n": 4, "marker": str(marker)}
    first = run_pipeline(spec, api, params, parallelism=1)
    marker.touch()
    second = run_pipeline(spec, api, params, parallelism=1, raise_on_failure=False)
    return {"first": first.run.id, "second": second.run.id}


def test_a_run_is_its_dag_by_status_and_a_step_opens_its_logs_and_lineage(
    page: Page, ui_server: UiServer, runs: dict[str, str]
) -> None:
    errors = console_errors(page)
    login(page, ui_server, "viewer")
    page.goto(f"{ui_server.url}/pipelines")
    listed = page.locator("#pipeline-runs tbody tr")
    assert [row.get_attribute("data-run") for row in listed.all()] == [
        runs["second"],
        runs["first"],
    ]  # newest first
    page.click(f"#pipeline-runs a:text('{runs['second'][:8]}')")

    graph = page.locator("svg#run-graph")
    boxes = graph.locator("g.vertex")
    statuses = {g.get_attribute("data-id"): g.get_attribute("data-status") for g in boxes.all()}
    assert statuses == {"load": "cached", "total": "cached", "check": "failed", "report": "skipped"}
    assert graph.locator("g.vertex.step.failed").count() == 1
    assert graph.locator("g.vertex.cached").count() == 2
    assert graph.locator("path.edge").count() == 4  # load→check, load→total, both→report

    graph.locator("g[data-id=check] a").click()
    page.wait_for_url(re.compile(r".*step=check"))
    assert page.locator("#step").get_attribute("data-step") == "check"
    assert "checking <b>values</b>" in page.locator("pre#logs").inner_text()
    assert "ValueError: the marker file is present" in page.locator("#step .error").inner_text()
    assert page.locator("svg#run-graph g.vertex.chosen").get_attribute("data-id") == "check"
    inputs = page.locator("#artifacts tr[data-direction=in]")
    assert inputs.count() == 1 and "values" in inputs.inner_text()

    inputs.locator("a").click()
    page.wait_for_url(re.compile(r".*/lineage\?object=artifact"))
    lineage = page.locator("svg#lineage-graph")
    assert lineage.locator("g.vertex.chosen.artifact").count() == 1
    assert lineage.locator("g.vertex.step").count() >= 3  # load made it; check and total read it
    assert page.locator("#lineage-nodes tbody tr").count() == int(
        lineage.get_attribute("data-nodes") or 0
    )
    assert errors == []


def test_errors_a_user_can_cause_are_pages_with_their_status(ui_server: UiServer) -> None:
    team = {"workspace": WORKSPACE}
    with logged_in(ui_server, "viewer") as client:
        unknown = client.get("/pipelines/runs/0123456789abcdef", params=team)
        assert unknown.status_code == 404
        assert "Not found" in unknown.text and "no pipeline run" in unknown.text
        assert client.get("/pipelines/runs/" + "x" * 65, params=team).status_code == 400
        for number in ("0", "21", "many"):
            assert client.get("/pipelines", params={**team, "page": number}).status_code == 400
        bad = client.get("/lineage", params={**team, "object": "nonsense"})
        assert bad.status_code == 422 and "KIND:NAME" in bad.text  # InvalidInput
        gone = client.get("/lineage", params={**team, "object": "model:absent/1"})
        assert gone.status_code == 404 and 'role="alert"' in gone.text
        wrong = client.get("/lineage", params={**team, "object": "run:x", "direction": "sideways"})
        assert wrong.status_code == 400
        assert client.get("/lineage", params={**team, "depth": "51"}).status_code == 400
        assert client.get("/pipelines", params=team).status_code == 200
        assert client.get("/lineage", params=team).status_code == 200  # the form alone


def test_an_unknown_step_of_a_run_is_a_404_page(ui_server: UiServer, runs: dict[str, str]) -> None:
    with logged_in(ui_server, "viewer") as client:
        answer = client.get(
            f"/pipelines/runs/{runs['first']}", params={"workspace": WORKSPACE, "step": "nope"}
        )
        assert answer.status_code == 404 and "has no step" in answer.text
