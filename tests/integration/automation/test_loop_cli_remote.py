"""``gnomon rollout`` and ``gnomon policy`` against a live server: a person approves and aborts
a rollout a worker stepped beside the database, starts one with a given risk, reads and
pauses policies; what needs the database (risk read from the lineage, stepping, defining a
policy) is refused in one line saying so."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gnomon._types import Scope, now_ms
from gnomon.automation.plans import plan_for
from gnomon.automation.policies import PolicyService
from gnomon.automation.rollouts import RolloutService
from gnomon.automation.spec import RolloutSpec
from gnomon.deployments.service import DeploymentService
from tests.fixtures.cli import fails, ok, ok_json
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.registry import seed_models
from tests.fixtures.server import LiveServer


@pytest.fixture
def scope(open_server: LiveServer, gnomon_home: Path, monkeypatch: pytest.MonkeyPatch) -> Scope:
    """churn 1-3 and ``web`` serving churn/1 in a fresh workspace, the CLI pointed at it."""
    services = open_server.services
    assert services.database is not None and services.registry is not None
    scope = fresh_workspace(services.database)
    seed_models(services.registry, scope)
    services.get(DeploymentService).create(scope, "web", "churn/1")
    monkeypatch.setenv("GNOMON_URI", open_server.url)
    monkeypatch.setenv("GNOMON_WORKSPACE", scope.workspace)
    return scope


def _arms(live: LiveServer, scope: Scope) -> list[tuple[str, str, int]]:
    routing = live.services.get(DeploymentService).get(scope, "web").routing
    return [(a.ref, a.role.value, a.weight) for a in routing.arms]


def _awaiting_approval(live: LiveServer, scope: Scope) -> None:
    """A worker's rollout of churn/2 past its smoke test, waiting for a person: the server's
    own service runs no smoke test, so this one is the worker's."""
    served = live.services.get(RolloutService)
    worker = RolloutService(served.store, served.deployments, served.registry, served.settings)
    worker.smoke = lambda scope, rollout: None
    plan = plan_for("high", RolloutSpec(approval=("high",)), strategy="canary")
    started = worker.start(scope, "web", "churn", 2, plan, {"level": "high", "changes": []})
    assert worker.step(scope, started, None, now_ms()).state == "awaiting_approval"


def test_rollout_approve_abort_and_start_through_a_server(
    open_server: LiveServer, scope: Scope
) -> None:
    said = fails("rollout", "start", "web", "churn/2")  # --risk auto by default
    assert "risk 'auto' reads the two versions' lineage" in said and "--risk" in said
    _awaiting_approval(open_server, scope)
    assert "awaiting_approval" in ok("rollout", "status", "web")

    out = ok("rollout", "approve", "web")
    assert "Approved: churn/2 on web is at running (canary 10%)" in out
    assert _arms(open_server, scope) == [("churn/1", "primary", 90), ("churn/2", "canary", 10)]
    assert "is running, not waiting for approval" in fails("rollout", "approve", "web")

    out = ok("rollout", "abort", "web", "--reason", "by hand")
    assert "Aborted the rollout of churn/2 on web" in out
    assert _arms(open_server, scope) == [("churn/1", "primary", 100)]
    ended = ok_json("rollout", "status", "web")
    assert ended["state"] == "aborted"
    assert ended["decisions"][-1]["reason"] == "aborted by local: by hand"
    assert "has ended (aborted)" in fails("rollout", "abort", "web")
    assert "deployment 'nowhere' not found" in fails("rollout", "approve", "nowhere")

    out = ok("rollout", "start", "web", "churn/3", "--risk", "low", "--hold", "1m")
    assert "churn/3 on web: low risk, direct rollout, running (smoke)" in out
    listed = ok_json("rollout", "list", "--deployment", "web")
    assert [(r["candidate_version"], r["state"]) for r in listed] == [
        (3, "running"),
        (2, "aborted"),
    ]
    said = fails("rollout", "step")
    assert "gnomon rollout step runs the controller beside the metadata database" in said


def test_an_abort_needs_no_body(open_server: LiveServer, scope: Scope) -> None:
    # Found: POST .../abort without a body was 422 "body: Field required", though its reason
    # is optional (as the bodies of a deployment's promote and rollback are).
    _awaiting_approval(open_server, scope)
    headers = {"X-Gnomon-Workspace": scope.workspace}
    with httpx.Client(base_url=f"{open_server.url}/api/v1", headers=headers) as http:
        answer = http.post("/rollouts/deployment/web/abort")
    assert answer.status_code == 200, answer.text
    aborted = answer.json()
    assert (aborted["state"], aborted["decisions"][-1]["reason"]) == ("aborted", "aborted by local")
    assert _arms(open_server, scope) == [("churn/1", "primary", 100)]


def test_policies_read_and_paused_through_a_server(
    open_server: LiveServer, scope: Scope, tmp_path: Path
) -> None:
    spec = {"model": "churn", "deployment": "web", "gate": {"target": "label"}}
    open_server.services.get(PolicyService).create(
        scope, "retrain", "tests.nowhere:retrain", spec, cron="0 3 * * *", import_pipeline=False
    )
    listed = ok("policy", "list")
    assert "retrain" in listed and "active" in listed
    assert "cron 0 3 * * * (UTC)" in ok("policy", "show", "retrain")
    assert [v["version"] for v in ok_json("policy", "history", "retrain")] == [1]
    assert ok_json("policy", "firings", "retrain") == []
    assert "Paused policy retrain" in ok("policy", "pause", "retrain")
    assert ok_json("policy", "show", "retrain")["paused"] is True
    ok("policy", "resume", "retrain")
    assert ok_json("policy", "show", "retrain")["paused"] is False
    assert "policy 'ghost' does not exist" in fails("policy", "show", "ghost")

    beside = "policies are managed beside the metadata database"
    assert beside in fails("policy", "delete", "retrain")
    file = tmp_path / "policy.yaml"
    file.write_text("name: other\npipeline: flow:retrain\n", encoding="utf-8")
    assert beside in fails("policy", "create", str(file))
    assert beside in fails("policy", "update", "retrain", str(file))
    assert [p["name"] for p in ok_json("policy", "list")] == ["retrain"]
