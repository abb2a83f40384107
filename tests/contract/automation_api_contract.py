"""The RolloutsApi and PoliciesApi contracts (``client.rollouts``, ``client.policies``), one
suite for embedded and remote mode: rollouts started, read, approved and aborted, policies
read, paused and resumed, every refusal by class and message, and nothing written by one.

Subclasses supply ``target`` (``tests/fixtures/api_modes.py``); each test starts with the
files-less versions of ``seed_models`` (churn 1-3, ``production`` → 1; fraud 1) and the
deployment ``web`` serving churn/1. What only a worker does beside the database (a rollout's
smoke test, creating a policy) is done by ``Beside``: the services over the target's database.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

import gnomon
from gnomon._types import Scope, now_ms
from gnomon.automation.api import PoliciesApi, RolloutsApi
from gnomon.automation.entities import Decision, Rollout
from gnomon.automation.plans import plan_for
from gnomon.automation.policies import PolicyService
from gnomon.automation.rollouts import RolloutService
from gnomon.automation.spec import PolicySpec, RolloutSpec
from gnomon.errors import Conflict, InvalidInput, NotFound
from tests.fixtures.api_modes import Target
from tests.fixtures.registry import seed_models
from tests.fixtures.server import server_settings

Cases = list[tuple[type[Exception], str, Callable[[], object]]]
SPEC = {"model": "churn", "deployment": "web", "gate": {"target": "label"}}


@dataclass
class Beside:
    """The worker's side of the target's database, in its workspace."""

    rollouts: RolloutService
    policies: PolicyService
    scope: Scope

    def awaiting_approval(self) -> Rollout:
        """A high-risk canary of churn/2 over ``web``, past its smoke test, waiting."""
        plan = plan_for("high", RolloutSpec(approval=("high",)), strategy="canary")
        risk = {"level": "high", "changes": []}
        started = self.rollouts.start(self.scope, "web", "churn", 2, plan, risk)
        self.rollouts.smoke = lambda scope, rollout: None  # the candidate answered its rows
        waiting = self.rollouts.step(self.scope, started, None, now_ms())
        assert waiting.state == "awaiting_approval", waiting.decisions
        return waiting

    def policy(self, name: str) -> None:
        self.policies.create(
            self.scope, name, "tests.nowhere:retrain", SPEC, cron="0 3 * * *",
            import_pipeline=False,
        )  # fmt: skip


def arms(target: Target) -> list[tuple[str, str, int]]:
    routing = target.client.deployments.get("web").routing
    return [(a.ref, a.role.value, a.weight) for a in routing.arms]


def refused(cases: Cases) -> None:
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()


class AutomationApiContract:
    __test__ = False

    @pytest.fixture
    def beside(self, target: Target, tmp_path: Path) -> Iterator[Beside]:
        seed_models(target.registry, target.scope)
        target.client.deployments.create("web", "churn/1")
        db = target.registry.store.db  # type: ignore[attr-defined]
        home = tmp_path / "worker"
        settings = server_settings(db.uri, home, workspace=target.scope.workspace, user="worker")
        worker = gnomon.Client(settings=settings)
        services = worker._services
        yield Beside(services.get(RolloutService), services.get(PolicyService), worker.scope)
        worker.close()

    @pytest.fixture
    def api(self, target: Target, beside: Beside) -> RolloutsApi:
        return cast(RolloutsApi, target.client.rollouts)

    @pytest.fixture
    def policies(self, target: Target, beside: Beside) -> PoliciesApi:
        return cast(PoliciesApi, target.client.policies)

    # -- rollouts ---------------------------------------------------------------------------

    def test_start_status_get_and_list(self, api: RolloutsApi, target: Target) -> None:
        started = api.start(
            "web", "churn", 2, risk="medium", canary_steps=(20, 60), hold_s=90, min_requests=5
        )
        assert (started.deployment, started.candidate, started.champion_version) == (
            "web", "churn/2", 1,
        )  # fmt: skip
        assert (started.state, started.stage, started.created_by) == ("running", 0, target.actor)
        assert [s.describe() for s in started.plan.stages] == [
            "smoke", "canary 20%", "canary 60%", "promote",
        ]  # fmt: skip
        assert started.plan.stages[1].hold_s == 90 and started.plan.stages[1].min_requests == 5
        assert (started.plan.strategy, started.plan.alias) == ("canary", "production")
        assert started.risk["level"] == "medium"
        [decision] = started.decisions
        assert decision.action == "start"
        assert (
            decision.reason
            == "medium risk: canary rollout (smoke, canary 20%, canary 60%, promote)"
        )
        assert api.status("web") == started == api.get(started.id)
        assert api.list() == [started] == api.list("web")
        assert api.list("elsewhere") == []
        assert arms(target) == [("churn/1", "primary", 100)]  # nothing routed before the smoke test

    def test_a_listing_leaves_out_the_extensions_of_a_hold(
        self, api: RolloutsApi, beside: Beside
    ) -> None:
        # Found: a listing read each rollout as status does, with its newest 500 decisions. A
        # canary short of answers records an extension each hold, so listing 1000 rollouts
        # answered 200 MB at once.
        started = api.start("web", "churn", 2, risk="low")
        store = beside.rollouts.store
        for action, values in [("extend", {}), ("extend", {}), ("advance", {"stage": 1})]:
            decision = Decision(0, now_ms(), 0, action, f"{action} by the test", {"n": 1})
            assert store.record(started.id, decision, values, None, expected_stage=0)
        whole = api.status("web")
        assert [d.action for d in whole.decisions] == ["start", "extend", "extend", "advance"]
        [listed] = api.list()
        assert [d.action for d in listed.decisions] == ["start", "advance"]  # its traffic
        assert listed == dataclasses.replace(whole, decisions=listed.decisions)
        assert api.list("web") == [listed] and api.get(started.id) == whole

    def test_a_strategy_and_an_alias_override_the_defaults(self, api: RolloutsApi) -> None:
        started = api.start("web", "churn", 3, risk="high", strategy="direct", alias=None)
        assert [s.kind for s in started.plan.stages] == ["smoke", "promote"]
        assert started.plan.alias is None and started.plan.strategy == "direct"

    def test_start_errors_write_nothing(self, api: RolloutsApi) -> None:
        def churn(version: int = 2, **options: Any) -> Callable[[], object]:
            return lambda: api.start("web", "churn", version, **{"risk": "low", **options})

        refused([
            (NotFound, "deployment 'nowhere' not found",
             lambda: api.start("nowhere", "churn", 2, risk="low")),
            (NotFound, "version 9 of registered model 'churn'", churn(9)),
            (NotFound, "'ghost'", lambda: api.start("web", "ghost", 1, risk="low")),
            (InvalidInput, "churn/1 already answers 'web' as its primary", churn(1)),
            (InvalidInput, "risk is auto or one of low, medium, high, not 'extreme'",
             churn(risk="extreme")),
            (InvalidInput, "strategy is one of direct, canary, shadow, not 'yolo'",
             churn(strategy="yolo")),
            (InvalidInput, "canary_steps holds 1 to 10 percentages, not 0", churn(canary_steps=())),
            (InvalidInput, "canary_steps holds 1 to 10 percentages, not 11",
             churn(canary_steps=range(1, 12))),
            (InvalidInput, r"canary_steps must rise, not \[50, 10\]", churn(canary_steps=(50, 10))),
            (InvalidInput, "canary_steps must be a whole number from 1 to 99",
             churn(canary_steps=(100,))),
            (InvalidInput, "hold_s must be from 1 s to 30 days", churn(hold_s=0.5)),
            (InvalidInput, "hold_s must be from 1 s to 30 days", churn(hold_s=math.inf)),
            (InvalidInput, "min_requests must be a whole number", churn(min_requests=0)),
            (InvalidInput, "version must be a whole number", churn(0)),
            (InvalidInput, "alias name must be a non-empty string", churn(alias="")),
        ])  # fmt: skip
        assert api.list() == []

    def test_one_rollout_runs_per_deployment(self, api: RolloutsApi) -> None:
        first = api.start("web", "churn", 2, risk="low")
        with pytest.raises(Conflict, match="deployment 'web' has a rollout running; let it end"):
            api.start("web", "churn", 3, risk="low")
        assert api.list() == [first]

    def test_unknown_deployments_and_rollouts_are_not_found(self, api: RolloutsApi) -> None:
        refused([
            (NotFound, "deployment 'nowhere' not found", lambda: api.status("nowhere")),
            (NotFound, "deployment 'nowhere' not found", lambda: api.approve("nowhere")),
            (NotFound, "deployment 'nowhere' not found", lambda: api.abort("nowhere")),
            (NotFound, "deployment 'web' has had no rollout", lambda: api.status("web")),
            (NotFound, "deployment 'web' has had no rollout", lambda: api.approve("web")),
            (NotFound, "deployment 'web' has had no rollout", lambda: api.abort("web", "why")),
            (NotFound, f"rollout '{'0' * 32}' does not exist", lambda: api.get("0" * 32)),
            (InvalidInput, "limit must be 1..1000, not 0", lambda: api.list(limit=0)),
        ])  # fmt: skip

    def test_names_no_route_could_reach_get_the_embedded_answer(self, api: RolloutsApi) -> None:
        # Found: through a server, '' was "no route GET /api/v1/rollouts/" and listing the
        # deployment '' was [], where embedded both are refused naming the argument.
        empty = "deployment name must be a non-empty string, got ''"
        refused([
            (InvalidInput, empty, lambda: api.status("")),
            (InvalidInput, empty, lambda: api.approve("")),
            (InvalidInput, empty, lambda: api.abort("")),
            (InvalidInput, empty, lambda: api.list("")),
            (InvalidInput, "rollout id must be a non-empty string, got ''", lambda: api.get("")),
            (NotFound, "deployment 'a/b' not found", lambda: api.status("a/b")),
            (NotFound, "deployment 'a/b' not found", lambda: api.approve("a/b")),
            (NotFound, "deployment 'a/b' not found", lambda: api.abort("a/b", "why")),
        ])  # fmt: skip
        assert api.list("a/b") == []

    def test_approve_lets_a_waiting_rollout_go_on(
        self, api: RolloutsApi, beside: Beside, target: Target
    ) -> None:
        waiting = beside.awaiting_approval()
        assert api.status("web") == waiting
        approved = api.approve("web")
        assert (approved.state, approved.current and approved.current.describe()) == (
            "running", "canary 10%",
        )  # fmt: skip
        last = approved.decisions[-1]
        assert (last.action, last.reason) == ("approve", f"approved by {target.actor}")
        assert arms(target) == [("churn/1", "primary", 90), ("churn/2", "canary", 10)]
        with pytest.raises(InvalidInput, match="is running, not waiting for approval"):
            api.approve("web")

    def test_abort_takes_the_candidate_away(
        self, api: RolloutsApi, beside: Beside, target: Target
    ) -> None:
        beside.awaiting_approval()
        api.approve("web")
        aborted = api.abort("web", "not today")
        assert aborted.state == "aborted" and aborted.ended
        last = aborted.decisions[-1]
        assert (last.action, last.reason) == ("abort", f"aborted by {target.actor}: not today")
        assert [d.action for d in aborted.decisions] == [
            "start", "advance", "hold", "approve", "abort",
        ]  # fmt: skip
        assert arms(target) == [("churn/1", "primary", 100)]
        with pytest.raises(InvalidInput, match=r"has ended \(aborted\)"):
            api.abort("web")
        again = api.start("web", "churn", 2, risk="low")  # the deployment is free again
        assert api.list("web") == [again, aborted]

    def test_auto_risk_is_read_beside_the_database_only(
        self, api: RolloutsApi, target: Target
    ) -> None:
        target.client.deployments.create("api", "fraud/1")
        if not api.supports_auto_risk:
            with pytest.raises(InvalidInput, match="risk 'auto' reads the two versions' lineage"):
                api.start("api", "churn", 2)
            assert api.list() == []
            return
        # Another model serves it: a change of model, high, read without loading either.
        started = api.start("api", "churn", 2)
        assert (started.risk["level"], started.plan.strategy) == ("high", "shadow")
        assert "serves another model (fraud/1)" in started.risk["changes"][0]["reason"]
        with pytest.raises(InvalidInput, match="already answers 'web' as its primary"):
            api.start("web", "churn", 1)  # refused before any lineage is read

    def test_another_workspace_never_sees_a_rollout(self, api: RolloutsApi, beside: Beside) -> None:
        started = api.start("web", "churn", 2, risk="low")
        stranger = Scope("someone-elses", "mallory")
        reaches: list[Callable[[], object]] = [
            lambda: beside.rollouts.get(stranger, started.id),
            lambda: beside.rollouts.latest(stranger, "web"),
            lambda: beside.rollouts.abort(stranger, "web"),
        ]
        for reach in reaches:
            with pytest.raises(NotFound):
                reach()
        assert beside.rollouts.list(stranger) == []
        assert api.status("web") == started

    # -- policies ---------------------------------------------------------------------------

    def test_policies_are_read_as_defined(self, policies: PoliciesApi, beside: Beside) -> None:
        assert policies.list() == []
        beside.policy("retrain")
        beside.policy("team/retrain")  # a '/' in a name: the routes take it as a path
        defined = beside.policies.get(beside.scope, "retrain")
        got = policies.get("retrain")
        assert got == defined
        assert (got.spec.model, got.spec.deployment, got.triggers) == (
            "churn", "web", ["cron 0 3 * * * (UTC)"],
        )  # fmt: skip
        assert [p.name for p in policies.list()] == ["retrain", "team/retrain"]
        assert policies.get("team/retrain").name == "team/retrain"
        [version] = policies.versions("team/retrain")
        assert (version.policy, version.version, version.note) == ("team/retrain", 1, "created")
        assert PolicySpec.from_dict(version.spec) == defined.spec

    def test_firings_newest_first(self, policies: PoliciesApi, beside: Beside) -> None:
        beside.policy("retrain")
        assert policies.firings("retrain") == []
        row = beside.policies.store.policy(beside.scope, "retrain")
        opened = beside.policies.store.open_firing(
            beside.scope.workspace, row, "churn", "tick-1", now_ms()
        )
        [firing] = policies.firings("retrain")
        assert firing == opened and firing.status == "retraining" and firing.open
        with pytest.raises(InvalidInput, match=r"limit must be 1\.\.1000, not 0"):
            policies.firings("retrain", limit=0)

    def test_pause_and_resume(self, policies: PoliciesApi, beside: Beside) -> None:
        beside.policy("retrain")
        assert policies.pause("retrain").paused is True
        assert policies.get("retrain").paused is True
        assert beside.policies.schedules.get(beside.scope, "retrain").paused  # its schedule
        assert policies.resume("retrain").paused is False
        assert policies.get("retrain").paused is False

    def test_names_ending_like_a_route_are_still_theirs(
        self, policies: PoliciesApi, beside: Beside
    ) -> None:
        for name in ("a/versions", "a/firings", "a/pause"):
            beside.policy(name)
            assert policies.get(name).name == name
            assert [v.policy for v in policies.versions(name)] == [name]
            assert policies.firings(name) == []
            assert policies.pause(name).name == name
        beside.policy("a")
        assert [v.policy for v in policies.versions("a")] == ["a"]
        assert policies.get("a").paused is False  # pausing "a/pause" left "a" alone

    def test_unknown_policies_are_not_found(self, policies: PoliciesApi) -> None:
        said = "policy 'ghost' does not exist"
        refused([
            (NotFound, said, lambda: policies.get("ghost")),
            (NotFound, said, lambda: policies.versions("ghost")),
            (NotFound, said, lambda: policies.firings("ghost")),
            (NotFound, said, lambda: policies.pause("ghost")),
            (NotFound, said, lambda: policies.resume("ghost")),
            (NotFound, "policy 'x/versions' does not exist", lambda: policies.get("x/versions")),
        ])  # fmt: skip
