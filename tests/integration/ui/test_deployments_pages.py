"""The deployments pages: a deployment's routes, its traffic charted from the stored prediction
records, its newest predictions and validation failures, its history; an editor promotes the
canary and rolls back from the page, a viewer sees no buttons and a forged post of theirs
changes nothing; unknown names and bad posts are error pages."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from gnomon._types import now_ms
from gnomon.deployments.entities import ArmRole
from gnomon.deployments.service import DeploymentService
from gnomon.predictions.entities import PredictionRecord
from gnomon.predictions.records import RecordWriter
from gnomon.predictions.storage import predictions_store
from gnomon.registry.entities import NewVersion
from tests.integration.ui.conftest import WORKSPACE, UiServer, console_errors, login, signed_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

MODEL = "churn-routes"
NAME = "web-ui"
TEAM = {"workspace": WORKSPACE}
MINUTE = 60_000


@pytest.fixture(scope="module")
def deployed(ui_server: UiServer) -> str:
    """``web-ui``: version 1 primary, version 2 a 20% canary, version 3 a shadow; an hour of
    records, one a minute per arm, every tenth with a violation and the shadow failing on
    every fifth."""
    services, scope = ui_server.live.services, ui_server.scope
    assert services.registry is not None
    for number in (1, 2, 3):
        new = NewVersion(f"import:{MODEL}-{number}", f"/tmp/{MODEL}/{number}", "editor")
        services.registry.create_version(scope, MODEL, new)
    deployments = services.get(DeploymentService)
    deployments.create(scope, NAME, f"{MODEL}/1")
    deployments.set_route(scope, NAME, f"{MODEL}/2", canary=20, note="try 2")
    deployments.set_route(scope, NAME, f"{MODEL}/3", shadow=True)
    settings = ui_server.live.settings
    writer = RecordWriter(predictions_store(settings.artifact_root, scope.workspace))
    start = now_ms() - 60 * MINUTE
    records = []
    for minute in range(60):
        for role, version in (("primary", 1), ("canary", 2), ("shadow", 3)):
            failed = role == "shadow" and minute % 5 == 0
            violations = [{"row": 0, "column": "x", "problem": "out_of_range"}]
            records.append(
                PredictionRecord(
                    f"r{minute}-{role}",
                    start + minute * MINUTE,
                    NAME,
                    MODEL,
                    version,
                    {"x": minute / 10},
                    None if failed else minute % 2,
                    5.0 + version,
                    role,
                    violations if minute % 10 == 0 else None,
                )
            )
    writer.submit(records)
    writer.close()
    return NAME


def _roles(ui_server: UiServer) -> list[tuple[str, ArmRole, int]]:
    deployment = ui_server.live.services.get(DeploymentService).get(ui_server.scope, NAME)
    return [(a.ref, a.role, a.weight) for a in deployment.routing.arms]


def test_an_editor_promotes_and_rolls_back_and_a_viewer_sees_no_buttons(
    page: Page, ui_server: UiServer, deployed: str
) -> None:
    errors = console_errors(page)
    page.on("dialog", lambda dialog: dialog.accept())  # the buttons ask before they act
    login(page, ui_server, "editor")
    page.goto(f"{ui_server.url}/deployments")
    page.click(f"a:text('{NAME}')")
    routes = page.locator("#route-table tbody tr")
    assert routes.count() == 3
    assert "80%" in page.locator("#route-table tr[data-role=primary]").inner_text()
    assert "20%" in page.locator("#route-table tr[data-role=canary]").inner_text()
    for chart in ("rate", "latency", "errors"):
        figure = page.locator(f"figure.chart[data-chart={chart}]")
        figure.locator("canvas").wait_for()
        assert figure.get_attribute("data-drawn") == "true"
        assert int(figure.get_attribute("data-points") or 0) > 0
    arms = page.locator("#arm-traffic tbody tr")
    assert arms.count() == 3
    shadow = page.locator("#arm-traffic tr[data-arm='shadow v3']").inner_text()
    assert "12 (20.0%)" in shadow  # every fifth of 60 failed
    assert page.locator("#failures tbody tr").count() == 18  # 6 minutes, 3 arms each
    assert page.locator("#recent tbody tr").count() == 50  # the newest 50 of 180
    assert page.locator("#history tbody tr").count() == 3

    page.click("#route-table tr[data-role=canary] button")
    page.wait_for_url(re.compile(rf".*/deployments/{NAME}(\?.*)?$"))
    assert page.locator("#route-table tr[data-role=primary]").get_attribute("data-ref") == (
        f"{MODEL}/2"
    )
    assert "promote" in page.locator("#history tbody tr").first.inner_text()
    assert (f"{MODEL}/2", ArmRole.PRIMARY, 100) in _roles(ui_server)

    page.fill("#rollback-form input[name=note]", "too slow")
    page.click("#rollback-form button")
    page.wait_for_url(re.compile(rf".*/deployments/{NAME}(\?.*)?$"))
    newest = page.locator("#history tbody tr").first.inner_text()
    assert "rollback" in newest and "too slow" in newest and "editor" in newest
    assert (f"{MODEL}/1", ArmRole.PRIMARY, 80) in _roles(ui_server)

    page.context.clear_cookies()
    login(page, ui_server, "viewer")
    page.goto(f"{ui_server.url}/deployments/{NAME}")
    assert page.locator("#route-table tbody tr").count() == 3
    assert page.locator("form[action*=promote], form[action*=rollback]").count() == 0
    assert page.locator("figure.chart[data-chart=rate]").get_attribute("data-drawn") == "true"
    assert errors == []


def test_a_viewers_forged_post_is_refused_and_changes_nothing(
    ui_server: UiServer, deployed: str
) -> None:
    deployments = ui_server.live.services.get(DeploymentService)
    before = deployments.get(ui_server.scope, NAME)
    with signed_in(ui_server, "viewer") as (client, csrf):
        shown = client.get(f"/deployments/{NAME}", params=TEAM)
        assert shown.status_code == 200 and "rollback-form" not in shown.text
        fields = {"csrf": csrf, "revision": str(before.revision)}
        for action in ("promote", "rollback"):
            answer = client.post(f"/deployments/{NAME}/{action}", params=TEAM, data=fields)
            assert answer.status_code == 403 and "text/html" in answer.headers["content-type"]
            assert "needs editor" in answer.text
    assert deployments.get(ui_server.scope, NAME) == before


def test_unknown_names_stale_pages_and_bad_posts_are_error_pages(
    ui_server: UiServer, deployed: str
) -> None:
    deployments = ui_server.live.services.get(DeploymentService)
    if "quiet" not in {d.name for d in deployments.list(ui_server.scope)}:
        deployments.create(ui_server.scope, "quiet", f"{MODEL}/1")  # no records
    before = deployments.get(ui_server.scope, NAME)
    with signed_in(ui_server, "editor") as (client, csrf):
        missing = client.get("/deployments/nope", params=TEAM)
        assert missing.status_code == 404 and 'role="alert"' in missing.text
        assert "nope" in missing.text
        bad_hours = client.get(f"/deployments/{NAME}", params={**TEAM, "hours": 1000})
        assert bad_hours.status_code == 400
        path = f"/deployments/{NAME}/rollback"
        revision = str(before.revision)
        cases = [
            ({"revision": revision}, 403, "reload it"),  # no form token
            ({"csrf": csrf, "revision": "x"}, 422, "revision number"),
            ({"csrf": csrf, "revision": "1"}, 409, "changed since the page was loaded"),
        ]
        for fields, status, said in cases:
            answer = client.post(path, params=TEAM, data=fields)
            assert answer.status_code == status, fields
            assert said in answer.text and 'role="alert"' in answer.text
        fields = {"csrf": csrf, "revision": revision, "model": f"{MODEL}/9"}
        wrong = client.post(f"/deployments/{NAME}/promote", params=TEAM, data=fields)
        assert wrong.status_code == 422 and "does not route to" in wrong.text
        gone = client.post("/deployments/nope/promote", params=TEAM, data=fields)
        assert gone.status_code == 404
        listing = client.get("/deployments", params={**TEAM, "q": "web"})
        assert listing.status_code == 200 and f'data-deployment="{NAME}"' in listing.text
        quiet = client.get("/deployments/quiet", params={**TEAM, "hours": 168})
        assert quiet.status_code == 200 and 'id="no-traffic"' in quiet.text
        assert 'class="chart"' not in quiet.text
    assert deployments.get(ui_server.scope, NAME) == before
