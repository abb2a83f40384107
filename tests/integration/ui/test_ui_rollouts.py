"""The closed-loop pages and gauges: rollouts stepped by RolloutService on prediction records
written as the model server writes them (a canary that advances, then rolls back on worse
outcomes; a direct rollout promoted; a canary left running), a policy whose firing passed
its gate; the pages show the risk, the stages, every decision with its figures and the
candidate's share, escape hostile names, answer 404 for unknown ids; the admin's metrics
route exports the rollouts' gauges and decision counts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from gnomon._types import now_ms
from gnomon.automation.entities import Rollout
from gnomon.automation.plans import plan_for
from gnomon.automation.policies import PolicyService
from gnomon.automation.rollouts import RolloutService
from gnomon.automation.spec import RolloutSpec
from gnomon.deployments.service import DeploymentService
from gnomon.predictions.entities import Outcome, PredictionRecord
from gnomon.predictions.records import OutcomeWriter, RecordWriter
from gnomon.predictions.storage import predictions_store
from gnomon.registry.entities import NewVersion
from tests.fixtures.server import ADMIN_PASSWORD
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

MODEL = "loop-model"
WEB = "loop-web"  # its records are read for evidence: a plain name
HOSTILE = '<img src=x onerror=alert(1)> & "co"'  # a deployment, a model and a policy
POLICY = "retrain <i>now</i>"  # a "/" too: its page's path holds it
POLICY_SEGMENT = "retrain%20%3Ci%3Enow%3C%2Fi%3E"
RISK_REASON = "<script>alert('risk')</script> new serving features"
TEAM = {"workspace": WORKSPACE}
ANSWERS = 25  # per arm and stage: above the controller's 20 before it judges outcomes


@dataclass
class Loop:
    canary: Rollout  # advanced to canary 50%, then rolled back
    direct: Rollout  # promoted
    running: Rollout  # at canary 10%
    firing_id: str


@pytest.fixture(scope="module")
def loop(ui_server: UiServer) -> Loop:
    services, scope = ui_server.live.services, ui_server.scope
    assert services.registry is not None
    for model in (MODEL, HOSTILE):
        for number in (1, 2):
            new = NewVersion(f"import:{number}", f"/tmp/loop/{number}", "editor")
            services.registry.create_version(scope, model, new)
    deployments = services.get(DeploymentService)
    deployments.create(scope, WEB, f"{MODEL}/1")
    deployments.create(scope, HOSTILE, f"{HOSTILE}/1")
    served = services.get(RolloutService)
    # The API server's service runs no smoke test (it never loads models): the worker's does.
    rollouts = RolloutService(served.store, served.deployments, served.registry, served.settings)
    rollouts.smoke = lambda scope, rollout: None

    policies = services.get(PolicyService)
    spec = {"model": MODEL, "deployment": WEB, "gate": {"target": "label"}}
    policies.create(
        scope, POLICY, "tests.nowhere:retrain", spec, cron="0 * * * *", import_pipeline=False
    )
    row = policies.store.policy(scope, POLICY)
    start = now_ms() - 20 * 60_000
    firing = policies.store.open_firing(scope.workspace, row, MODEL, "tick-1", start)

    risk = {
        "level": "medium",
        "changes": [{"kind": "code", "level": "medium", "reason": RISK_REASON}],
    }
    steps = RolloutSpec(canary_steps=(10, 50), hold_s=60, min_requests=20)
    plan = plan_for("medium", steps)
    canary = rollouts.start(scope, WEB, MODEL, 2, plan, risk, firing_id=firing.id, now=start)
    [stepped] = rollouts.run_due(now=start + 1000)  # the smoke test passes: canary 10%
    records = predictions_store(ui_server.live.settings.artifact_root, scope.workspace)
    _answer(records, start + 2000, "a", candidate_right=True)
    [stepped] = rollouts.run_due(now=start + 62_000)  # healthy after its hold: canary 50%
    assert stepped.current is not None and stepped.current.describe() == "canary 50%"
    _answer(records, start + 63_000, "b", candidate_right=False)
    [stepped] = rollouts.run_due(now=start + 64_000)  # worse on outcomes: rolled back
    assert stepped.state == "rolled_back", stepped.decisions[-1].reason
    gate = {
        "passed": True,
        "reasons": ["holdout: accuracy: better"],
        "holdout": {
            "source": "holdout@1",
            "rows": 300,
            "passed": True,
            "metrics": {"accuracy": 0.93, "<b>f1</b>": 0.9},
            "champion_metrics": {"accuracy": 0.71},
            "reasons": ["accuracy: 0.93 against 0.71"],
        },
        "production": {"skipped": "12 labelled records in the last 24 h, fewer than 50"},
    }
    policies.store.update_firing(
        firing.id, start + 64_000, status="rolled_back", candidate_version=2,
        champion_version=1, gate=gate, risk=risk, rollout_id=canary.id,
    )  # fmt: skip

    low = plan_for("low", RolloutSpec())
    direct = rollouts.start(scope, HOSTILE, HOSTILE, 2, low, {"level": "low"}, now=start + 100_000)
    [promoted] = rollouts.run_due(now=start + 101_000)
    assert promoted.state == "promoted"
    running = rollouts.start(scope, WEB, MODEL, 2, plan, risk, now=start + 200_000)
    rollouts.run_due(now=start + 201_000)
    return Loop(
        rollouts.get(scope, canary.id),
        rollouts.get(scope, direct.id),
        rollouts.get(scope, running.id),
        firing.id,
    )


def _answer(records: Any, at: int, prefix: str, *, candidate_right: bool) -> None:
    """``ANSWERS`` rows answered by the primary (right) and the canary, with outcomes."""
    writer, outcomes = RecordWriter(records), OutcomeWriter(records)
    found, truth = [], []
    for i in range(ANSWERS):
        for role, version, right in (("primary", 1, True), ("canary", 2, candidate_right)):
            request_id = f"{prefix}-{role}-{i}"
            label = i % 2
            answer = label if right else 1 - label
            found.append(
                PredictionRecord(
                    request_id, at + i, WEB, MODEL, version, {"x": i}, answer, 5.0, role
                )
            )
            truth.append(Outcome(request_id, at + i, WEB, label))
    writer.submit(found)
    writer.close()
    outcomes.submit(truth)
    outcomes.close()


def _rows(html: str, attribute: str) -> list[str]:
    return re.findall(rf'{attribute}="([^"]*)"', html)


def test_the_rollouts_list_is_newest_first_escaped_and_filtered(
    ui_server: UiServer, loop: Loop
) -> None:
    with logged_in(ui_server, "viewer") as client:
        listing = client.get("/rollouts", params=TEAM)
        assert listing.status_code == 200
        assert _rows(listing.text, "data-rollout") == [
            loop.running.id, loop.direct.id, loop.canary.id,
        ]  # fmt: skip
        assert _rows(listing.text, "data-state") == ["running", "promoted", "rolled_back"]
        assert "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;co&#34;" in listing.text
        assert "<img src=x" not in listing.text
        assert "canary 10%" in listing.text
        one = client.get("/rollouts", params={**TEAM, "deployment": WEB})
        assert _rows(one.text, "data-rollout") == [loop.running.id, loop.canary.id]
        deployment = client.get(f"/deployments/{WEB}", params=TEAM)
        assert re.search(
            r'id="rollouts-link" href="/rollouts\?deployment=loop-web', deployment.text
        )


def test_a_rollout_shows_its_risk_stages_decisions_figures_and_share(
    ui_server: UiServer, loop: Loop
) -> None:
    with logged_in(ui_server, "viewer") as client:
        answer = client.get(f"/rollouts/{loop.canary.id}", params=TEAM)
    assert answer.status_code == 200
    html = answer.text
    assert "&lt;script&gt;alert(&#39;risk&#39;)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert _rows(html, "data-action") == ["start", "advance", "advance", "rollback"]
    assert _rows(html, "data-where") == ["done", "done", "stopped", "next"]
    rollback = html[html.index('data-action="rollback"') :]
    assert "accuracy on outcomes 0 against the primary&#39;s 1" in rollback
    cells = re.findall(
        r"<tr><th>([^<]+)</th><td class=\"num\">([^<]+)</td><td class=\"num\">([^<]+)</td>",
        rollback,
    )
    assert ("answers", str(ANSWERS), str(ANSWERS)) in cells
    assert ("accuracy on outcomes", f"0 ({ANSWERS} labelled)", f"1 ({ANSWERS} labelled)") in cells
    assert ("failures", "0 (0%)", "0 (0%)") in cells
    payload = re.search(r'id="chart-share">(.*?)</script>', html, re.S)
    assert payload is not None
    chart = json.loads(payload[1])  # a step per decision: 0, 10% after the smoke test, ...
    assert chart["series"][0]["values"] == [0, 0, 10, 10, 50, 50, 0]
    assert f'href="/policies/{POLICY_SEGMENT}?workspace=team"' in html  # the firing's policy


def test_a_running_rollout_marks_its_current_stage(ui_server: UiServer, loop: Loop) -> None:
    with logged_in(ui_server, "viewer") as client:
        html = client.get(f"/rollouts/{loop.running.id}", params=TEAM).text
        promoted = client.get(f"/rollouts/{loop.direct.id}", params=TEAM).text
    assert _rows(html, "data-where") == ["done", "now", "next", "next"]
    assert "◀ now" in html and "running (canary 10%)" in html
    assert _rows(promoted, "data-where") == ["done", "done"]
    assert _rows(promoted, "data-action") == ["start", "advance", "promote"]


def test_policies_show_their_spec_and_firings_with_the_gate(
    ui_server: UiServer, loop: Loop
) -> None:
    with logged_in(ui_server, "viewer") as client:
        listing = client.get("/policies", params=TEAM)
        one = client.get(f"/policies/{POLICY_SEGMENT}", params=TEAM)
    assert listing.status_code == 200 and one.status_code == 200
    assert "retrain &lt;i&gt;now&lt;/i&gt;" in listing.text and "<i>now" not in listing.text
    assert "<td>cron 0 * * * * (UTC)</td>" in listing.text
    html = one.text
    assert "<i>now" not in html and "<b>f1" not in html and "&lt;b&gt;f1&lt;/b&gt;" in html
    assert _rows(html, "data-firing") == [loop.firing_id]
    assert _rows(html, "data-source") == ["holdout", "production"]
    holdout = html[html.index('data-source="holdout"') : html.index('data-source="production"')]
    assert re.search(r'data-metric="accuracy">.*?>0\.93<.*?>0\.71<', holdout)
    assert "fewer than 50" in html[html.index('data-source="production"') :]
    assert f'href="/rollouts/{loop.canary.id}?workspace=team"' in html
    assert "Gate target</th><td>label" in html


def test_unknown_ids_are_404_pages_and_anonymous_callers_log_in(
    ui_server: UiServer, loop: Loop
) -> None:
    with logged_in(ui_server, "viewer") as client:
        for path, named in (
            ("/rollouts/no-such-rollout", "no-such-rollout"),
            ("/policies/nope", "nope"),
        ):
            missing = client.get(path, params=TEAM)
            assert missing.status_code == 404, path
            assert "Not found" in missing.text and named in missing.text
    with httpx.Client(base_url=ui_server.url) as anonymous:
        for path in ("/rollouts", f"/rollouts/{loop.canary.id}", "/policies"):
            answer = anonymous.get(path, params=TEAM)
            assert answer.status_code == 303 and "/login" in answer.headers["location"]


def test_the_admins_metrics_route_exports_the_rollouts(ui_server: UiServer, loop: Loop) -> None:
    auth = ui_server.live.services.auth
    assert auth is not None
    admin, _ = auth.login("admin", ADMIN_PASSWORD)
    viewer, _ = auth.login("viewer", PASSWORD)
    with httpx.Client(base_url=ui_server.url) as http:
        refused = http.get(
            "/api/v1/metrics/rollouts", headers={"Authorization": f"Bearer {viewer}"}
        )
        answer = http.get("/api/v1/metrics/rollouts", headers={"Authorization": f"Bearer {admin}"})
    assert refused.status_code == 403
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)
    web = (("candidate", "2"), ("deployment", WEB), ("model", MODEL), ("workspace", WORKSPACE))
    # The running rollout and the rolled-back one share their labels: the newest counts.
    assert samples[("gnomon_rollout_state", web)] == 0
    assert samples[("gnomon_rollout_stage", web)] == 1
    assert samples[("gnomon_rollout_candidate_weight", web)] == 10
    hostile = (
        ("candidate", "2"),
        ("deployment", HOSTILE),
        ("model", HOSTILE),
        ("workspace", WORKSPACE),
    )
    assert samples[("gnomon_rollout_state", hostile)] == 2
    assert samples[("gnomon_rollout_candidate_weight", hostile)] == 100

    def decisions(deployment: str, action: str) -> float:
        labels = (("action", action), ("deployment", deployment), ("workspace", WORKSPACE))
        return samples[("gnomon_rollout_decisions_total", labels)]

    assert decisions(WEB, "start") == 2
    assert decisions(WEB, "advance") == 3
    assert decisions(WEB, "rollback") == 1
    assert decisions(HOSTILE, "promote") == 1
    assert (
        "gnomon_rollout_decisions_total",
        (("action", "promote"), ("deployment", WEB), ("workspace", WORKSPACE)),
    ) not in samples


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_the_rollout_pages_in_the_browser(page: Page, ui_server: UiServer, loop: Loop) -> None:
    errors = console_errors(page)
    login(page, ui_server, "viewer")
    page.click("nav >> text=Rollouts")
    page.locator(f'#rollouts tr[data-rollout="{loop.canary.id}"] a').first.click()
    page.wait_for_url(f"**/rollouts/{loop.canary.id}*")
    figure = page.locator("figure.chart[data-chart=share]")
    figure.locator("canvas").wait_for()
    assert figure.get_attribute("data-drawn") == "true"
    assert page.locator("#decision-table > tbody > tr").count() == 4
    page.click("nav >> text=Policies")
    page.locator("#policies a").first.click()
    page.click("a.rollout-link")
    page.wait_for_url(f"**/rollouts/{loop.canary.id}*")
    assert errors == []
