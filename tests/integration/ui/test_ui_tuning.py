"""The tuning pages: a study run by ``gnomon.tune`` against the UI's own server (as the
editor, remote), then listed and shown in a real browser with its charts, its trials' runs
linked; an unknown study is a 404 page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import pytest

import gnomon
from gnomon.tracking import fluent
from gnomon.tuning.tune import TuningResult
from tests.integration.ui.conftest import (
    PASSWORD,
    WORKSPACE,
    UiServer,
    console_errors,
    logged_in,
    login,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

STUDY = "ui <study> & co"  # escaped in pages, encoded in links
TRIALS = 12
SPACE = {
    "x": {"type": "float", "low": -5.0, "high": 5.0},
    "kind": {"type": "categorical", "choices": ["a", "b"]},
}


def objective(trial: Any) -> float:
    """Pruned where x > 3, failed where x < -3: the pages show every state."""
    x = trial.params["x"]
    trial.report(abs(x), 0)
    if x > 3:
        trial.prune()
    if x < -3:
        raise ValueError("x is too small")
    return (x - 1) ** 2 + (0.5 if trial.params["kind"] == "a" else 0.0)


@pytest.fixture(scope="module")
def tuned(ui_server: UiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TuningResult]:
    auth = ui_server.live.services.auth
    assert auth is not None
    token, _ = auth.login("editor", PASSWORD)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GNOMON_URI", ui_server.url)
        patch.setenv("GNOMON_TOKEN", token)
        patch.setenv("GNOMON_WORKSPACE", WORKSPACE)
        patch.setenv("GNOMON_HOME", str(tmp_path_factory.mktemp("tuning-client")))
        patch.setenv("GNOMON_CAPTURE_ENVIRONMENT", "false")
        fluent._reset()
        try:
            yield gnomon.tune(
                objective, SPACE, n_trials=TRIALS, study=STUDY, seed=3, catch=(ValueError,)
            )
        finally:
            fluent._reset()


def test_the_studies_pages_show_a_tuned_study_in_the_browser(
    ui_server: UiServer, tuned: TuningResult, page: Page
) -> None:
    login(page, ui_server, "viewer")
    errors = console_errors(page)
    page.click("nav >> text=Tuning")
    row = page.locator(f'#studies tr[data-study="{STUDY}"]')
    assert row.locator("td").nth(2).inner_text() == str(TRIALS)
    assert row.locator("td").nth(1).inner_text() == "value (minimize)"
    row.locator("a").click()
    page.wait_for_url(f"**/studies/{quote(STUDY, safe='')}*")
    assert page.locator("h1").inner_text() == STUDY
    assert page.locator("#counts").inner_text().startswith(f"{TRIALS} trials")
    history = page.locator("#history svg.chart.history")
    assert history.is_visible()
    assert history.locator("circle.trial").count() >= tuned.states["COMPLETE"]
    assert page.locator("#importances svg.chart.importances rect").count() == len(SPACE)
    trials = page.locator("#trials-table tbody tr")
    assert trials.count() == TRIALS
    assert trials.first.get_attribute("data-trial") == str(TRIALS - 1)  # newest first
    best = tuned.best
    best_row = page.locator(f'#best tr[data-trial="{best.number}"]')
    assert best_row.locator(f'a[href^="/runs/{best.run_id}"]').count() == 1
    page.click("#study-run a")
    page.wait_for_url(f"**/runs/{tuned.run_id}*")
    assert errors == []


def test_the_study_pages_over_http(ui_server: UiServer, tuned: TuningResult) -> None:
    team = {"workspace": WORKSPACE}
    with httpx.Client(base_url=ui_server.url) as anonymous:
        for path in ("/studies", f"/studies/{tuned.study.id}"):
            answer = anonymous.get(path, params=team)
            assert answer.status_code == 303 and "/login" in answer.headers["location"]
    with logged_in(ui_server, "viewer") as client:
        listing = client.get("/studies", params={**team, "q": "<study>"})
        assert listing.status_code == 200
        assert "ui &lt;study&gt; &amp; co" in listing.text and "<study>" not in listing.text
        by_id = client.get(f"/studies/{tuned.study.id}", params=team)
        assert by_id.status_code == 200 and 'svg class="chart history"' in by_id.text
        assert set(tuned.states) == {"COMPLETE", "PRUNED", "FAIL"}  # seeded
        for state in tuned.states:
            assert f'data-state="{state}"' in by_id.text
        missing = client.get("/studies/no-such-study", params=team)
        assert missing.status_code == 404
        assert "Not found" in missing.text and "no-such-study" in missing.text
