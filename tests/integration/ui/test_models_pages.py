"""The models pages: a model's versions with their contract, source run, training data and
metrics; an editor moves an alias with the form, a viewer sees no form and a forged post of
theirs (or a call of the REST API with their token) changes nothing; errors are pages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

import httpx
import numpy as np
import pandas as pd
import pytest

from gnomon.data.service import DatasetService
from gnomon.modelfolder.contract import ColumnSpec, Contract
from gnomon.modelfolder.folder import save_model
from gnomon.registry.entities import NewVersion
from gnomon.tracking.entities import Metric, RunStatus
from gnomon.ui.pages_models import VERSIONS_PER_PAGE
from tests.integration.ui.conftest import (
    PASSWORD,
    WORKSPACE,
    UiServer,
    console_errors,
    login,
    signed_in,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

MODEL = "churn-ui"
TEAM = {"workspace": WORKSPACE}


def _log_model(ui_server: UiServer, folder: Path, experiment_id: str, accuracy: float) -> str:
    """A run that trained on ``sales@1`` and logged a small sklearn model; its id."""
    from sklearn.linear_model import LogisticRegression

    services, scope = ui_server.live.services, ui_server.scope
    tracking = services.tracking
    run = tracking.create_run(scope, experiment_id, f"train-{accuracy}")
    tracking.log_batch(scope, run.id, [Metric("accuracy", accuracy, 0, 1_000)])
    frame = pd.DataFrame({"x": np.linspace(0, 1, 20)})
    model = LogisticRegression().fit(frame, (frame["x"] > 0.5).astype(int))
    contract = Contract(
        [ColumnSpec("x", "float64", minimum=0.0, maximum=1.0)], [ColumnSpec("label", "int64")]
    )
    save_model(model, folder, contract=contract, source_run_id=run.id, training_data="sales@1")
    tracking.log_artifact(scope, run.id, folder)
    assert services.registrar is not None
    services.registrar.record_logged_model(scope, run.id, folder.name)
    services.get(DatasetService).log_input(scope, run.id, "sales@1", "training")
    tracking.end_run(scope, run.id, RunStatus.FINISHED)
    return run.id


@pytest.fixture(scope="module")
def registered(ui_server: UiServer, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """``churn-ui`` versions 1 and 2 from two runs trained on ``sales@1``; production → 1.
    Returns the runs' ids."""
    home = tmp_path_factory.mktemp("models")
    services, scope = ui_server.live.services, ui_server.scope
    table = home / "sales.csv"
    pd.DataFrame({"x": np.linspace(0, 1, 50)}).to_csv(table, index=False)
    services.get(DatasetService).add(scope, table, "sales")
    experiment = services.tracking.create_experiment(scope, "models-ui")
    runs = []
    for i, accuracy in enumerate((0.81, 0.87)):
        run_id = _log_model(ui_server, home / str(i) / "model", experiment.id, accuracy)
        assert services.registrar is not None
        services.registrar.register(scope, f"runs:/{run_id}/model", MODEL)
        runs.append(run_id)
    assert services.registry is not None
    services.registry.set_alias(scope, MODEL, "production", 1)
    return runs


def _aliases(ui_server: UiServer) -> dict[str, int]:
    registry = ui_server.live.services.registry
    assert registry is not None
    return registry.get_model(ui_server.scope, MODEL).aliases


def test_an_editor_moves_an_alias_with_the_form_and_a_viewer_sees_no_form(
    page: Page, ui_server: UiServer, registered: list[str]
) -> None:
    errors = console_errors(page)
    login(page, ui_server, "editor")
    page.goto(f"{ui_server.url}/models")
    page.click(f"a:text('{MODEL}')")
    assert page.locator("#versions tbody tr").count() == 2
    detail = page.locator("#version-detail")
    assert detail.get_attribute("data-version") == "2"  # the latest, unless chosen
    assert "x" in page.locator("#contract-inputs").inner_text()
    assert "label" in page.locator("#contract-outputs").inner_text()
    assert page.locator("#training-data a").inner_text() == "sales@1"
    assert "0.87" in page.locator("#version-metrics").inner_text()
    href = page.locator("#source-run a").get_attribute("href")
    assert href is not None and href.startswith(f"/runs/{registered[1]}")

    page.fill("#alias-form input[name=alias]", "production")
    page.fill("#alias-form input[name=version]", "2")
    page.click("#alias-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/models/churn-ui\?version=2.*"))
    row = page.locator("#alias-table tr[data-alias=production]")
    assert row.locator("td").nth(1).inner_text() == "2"
    newest = page.locator("#alias-history tbody tr").first.inner_text()
    assert "1 → 2" in newest and "editor" in newest
    assert _aliases(ui_server)["production"] == 2

    page.context.clear_cookies()
    login(page, ui_server, "viewer")
    page.goto(f"{ui_server.url}/models/{MODEL}?version=1")
    assert page.locator("#version-detail").get_attribute("data-version") == "1"
    assert page.locator("#alias-form").count() == 0
    assert page.locator("form[action*=aliases]").count() == 0
    assert errors == []


def test_a_viewers_forged_post_is_refused_and_the_api_refuses_their_token(
    ui_server: UiServer, registered: list[str]
) -> None:
    before = _aliases(ui_server)
    with signed_in(ui_server, "viewer") as (client, csrf):
        assert 'id="alias-form"' not in client.get(f"/models/{MODEL}", params=TEAM).text
        body = {"alias": "production", "version": "1", "csrf": csrf}
        answer = client.post(f"/models/{MODEL}/aliases", params=TEAM, data=body)
        assert answer.status_code == 403 and "text/html" in answer.headers["content-type"]
        assert "needs editor" in answer.text
    auth = ui_server.live.services.auth
    assert auth is not None
    token, _ = auth.login("viewer", PASSWORD)
    api = httpx.put(
        f"{ui_server.url}/api/v1/models/{MODEL}/aliases/staging",
        json={"version": 1},
        headers={"Authorization": f"Bearer {token}", "X-Gnomon-Workspace": WORKSPACE},
    )
    assert api.status_code == 403
    assert _aliases(ui_server) == before


def test_bad_posts_and_unknown_models_are_error_pages_that_write_nothing(
    ui_server: UiServer, registered: list[str]
) -> None:
    before = _aliases(ui_server)
    with signed_in(ui_server, "editor") as (client, csrf):
        path = f"/models/{MODEL}/aliases"
        no_token = client.post(path, params=TEAM, data={"alias": "staging", "version": "1"})
        assert no_token.status_code == 403
        cases = [
            ({"alias": "1", "version": "1"}, 422, "reads like a version number"),
            ({"alias": "bad alias!", "version": "1"}, 422, "must start with a letter"),
            ({"alias": "staging", "version": "two"}, 422, "version number"),
            ({"alias": "staging", "version": "99"}, 404, "99"),
        ]
        for fields, status, said in cases:
            answer = client.post(path, params=TEAM, data={**fields, "csrf": csrf})
            assert answer.status_code == status, fields
            assert said in answer.text and 'role="alert"' in answer.text
        fields = {"alias": "staging", "version": "1", "csrf": csrf}
        assert client.post("/models/nope/aliases", params=TEAM, data=fields).status_code == 404
        missing = client.get("/models/nope", params=TEAM)
        assert missing.status_code == 404 and "not found" in missing.text
        assert client.get(f"/models/{MODEL}", params={**TEAM, "version": 99}).status_code == 404
        assert client.get(f"/models/{MODEL}", params={**TEAM, "version": "x"}).status_code == 400
        listing = client.get("/models", params={**TEAM, "q": "churn"})
        assert listing.status_code == 200 and f'data-model="{MODEL}"' in listing.text
    assert _aliases(ui_server) == before


def test_versions_are_paged_and_a_version_without_files_still_shows(ui_server: UiServer) -> None:
    registry = ui_server.live.services.registry
    assert registry is not None
    for number in range(VERSIONS_PER_PAGE + 1):
        new = NewVersion(f"import:{number}", f"/nowhere/{number}", "editor")
        registry.create_version(ui_server.scope, "many-versions", new)
    with signed_in(ui_server, "viewer") as (client, _):
        first = client.get("/models/many-versions", params=TEAM)
        assert first.status_code == 200
        rows = re.findall(r'<tr data-version="(\d+)"', first.text)
        assert rows == [str(n) for n in range(VERSIONS_PER_PAGE + 1, 1, -1)]
        assert "no recorded sha256" in first.text  # its contract cannot be read: said so
        token = re.search(r'href="/models/many-versions\?page=([^&"]+)', first.text)
        assert token is not None
        older = client.get("/models/many-versions", params={**TEAM, "page": unquote(token[1])})
        assert re.findall(r'<tr data-version="(\d+)"', older.text) == ["1"]
