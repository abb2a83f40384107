"""The DeploymentsApi contract (``client.deployments``), one suite for embedded and remote
mode.

Subclasses supply ``target`` (``tests/fixtures/api_modes.py``); each test starts with the
files-less versions of ``seed_models``: churn 1-3 (``production`` → 1) and fraud 1. Every
error is asserted by class and message: the same in every mode. (A lost race, the one
``Conflict``, needs two writers: ``tests/integration/server/test_deployments_remote.py``.)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gnomon.deployments.api import DeploymentsApi
from gnomon.deployments.entities import Action, ArmRole, Deployment, ServingConfig
from gnomon.errors import AlreadyExists, InvalidInput, NotFound
from tests.fixtures.api_modes import Target
from tests.fixtures.registry import seed_models

Cases = list[tuple[type[Exception], str, Callable[[], object]]]


def arms(deployment: Deployment) -> list[tuple[str, ArmRole, int]]:
    return [(a.ref, a.role, a.weight) for a in deployment.routing.arms]


class DeploymentsApiContract:
    __test__ = False

    @pytest.fixture
    def api(self, target: Target) -> DeploymentsApi:
        seed_models(target.registry, target.scope)
        return target.client.deployments

    def test_create_get_and_list(self, api: DeploymentsApi, target: Target) -> None:
        config = ServingConfig("warn", batching=False, batch_max_rows=16, batch_wait_ms=0.5)
        created = api.create("web site", "churn@production", description="d", config=config)
        assert (created.name, created.description, created.revision) == ("web site", "d", 1)
        assert created.config == config and created.workspace_id == target.scope.workspace
        assert arms(created) == [("churn@production", ArmRole.PRIMARY, 100)]
        assert created.created_by == target.actor
        assert api.get("web site") == created
        api.create("api", "fraud")
        assert [d.name for d in api.list()] == ["api", "web site"]
        assert api.get("api").config == ServingConfig()  # the defaults

    def test_create_errors(self, api: DeploymentsApi) -> None:
        api.create("web", "churn/1")
        cases: Cases = [
            (AlreadyExists, "'web' already exists", lambda: api.create("web", "churn/1")),
            (InvalidInput, "contains '/'", lambda: api.create("a/b", "churn/1")),
            (InvalidInput, "deployment name", lambda: api.create("", "churn/1")),
            (NotFound, "'ghost'", lambda: api.create("other", "ghost/1")),
            (NotFound, "version 9", lambda: api.create("other", "churn/9")),
            (InvalidInput, "model URI", lambda: api.create("other", "a@")),
            (
                InvalidInput,
                "unknown policy",
                lambda: api.create("other", "churn/1", config=ServingConfig("drop")),
            ),
        ]
        for error, message, call in cases:
            with pytest.raises(error, match=message):
                call()
        assert [d.name for d in api.list()] == ["web"]

    def test_unknown_deployments_are_not_found(self, api: DeploymentsApi) -> None:
        for call in (
            lambda: api.get("ghost"),
            lambda: api.set_route("ghost", "churn/2", canary=5),
            lambda: api.remove_route("ghost", "churn/2"),
            lambda: api.promote("ghost"),
            lambda: api.rollback("ghost"),
            lambda: api.update("ghost", description="d"),
            lambda: api.history("ghost"),
            lambda: api.resolve("ghost"),
            lambda: api.delete("ghost"),
            lambda: api.get("a/b"),  # no name holds a '/'
        ):
            with pytest.raises(NotFound, match=r"deployment '(ghost|a/b)' not found"):
                call()

    def test_routes_resolve_promote_and_roll_back(self, api: DeploymentsApi) -> None:
        api.create("web", "churn@production")
        canary = api.set_route("web", "churn/2", canary=10, note="try v2")
        assert arms(canary) == [
            ("churn@production", ArmRole.PRIMARY, 90),
            ("churn/2", ArmRole.CANARY, 10),
        ]
        ab = api.set_route("web", "churn/3", ab_key="customer_id", ab_weight=30)
        assert ab.routing.ab_key == "customer_id"
        assert arms(ab) == [("churn@production", ArmRole.PRIMARY, 70), ("churn/3", ArmRole.AB, 30)]
        shadowed = api.set_route("web", "fraud", shadow=True)
        assert arms(shadowed)[-1] == ("fraud/latest", ArmRole.SHADOW, 0)

        deployment, resolved = api.resolve("web")
        assert deployment == shadowed and deployment.revision == 4
        assert [(r.arm.ref, r.version, r.storage_uri) for r in resolved] == [
            ("churn@production", 1, "/tmp/churn/1"),
            ("churn/3", 3, "/tmp/churn/3"),
            ("fraud/latest", 1, "/tmp/fraud/1"),
        ]
        promoted = api.promote("web", note="v3 wins")
        assert [a.ref for a in promoted.routing.arms] == ["churn/3", "fraud/latest"]
        back = api.rollback("web", note="errors up")
        assert arms(back) == arms(shadowed) and back.revision == 6
        removed = api.remove_route("web", "fraud/latest")
        assert removed.routing.shadows == ()
        direct = api.set_route("web", "churn/2")  # no mode: the new primary
        assert arms(direct) == [("churn/2", ArmRole.PRIMARY, 100)]
        named = api.set_route("web", "churn/3", canary=20)
        assert arms(api.promote("web", "churn/3")) == [("churn/3", ArmRole.PRIMARY, 100)]
        assert named.revision == 9

    def test_route_errors(self, api: DeploymentsApi) -> None:
        api.create("web", "churn/1")
        cases: Cases = [
            (NotFound, "version 9", lambda: api.set_route("web", "churn/9", canary=5)),
            (NotFound, "staging", lambda: api.set_route("web", "churn@staging")),
            (
                InvalidInput,
                "whole percentage",
                lambda: api.set_route("web", "churn/2", canary=0),
            ),
            (
                InvalidInput,
                "choose one",
                lambda: api.set_route("web", "churn/2", canary=5, shadow=True),
            ),
            (InvalidInput, "already answers", lambda: api.set_route("web", "churn/1", canary=5)),
            (InvalidInput, "is the primary", lambda: api.remove_route("web", "churn/1")),
            (InvalidInput, "does not route to", lambda: api.remove_route("web", "churn/3")),
            (InvalidInput, "no canary or A/B arm", lambda: api.promote("web")),
            (InvalidInput, "no earlier revision", lambda: api.rollback("web")),
        ]
        for error, message, call in cases:
            with pytest.raises(error, match=message):
                call()
        assert api.get("web").revision == 1  # nothing refused was written

    def test_update_history_and_delete(self, api: DeploymentsApi, target: Target) -> None:
        api.create("web", "churn/1", description="first")
        config = ServingConfig("clip", False, 16, 0.5)
        updated = api.update("web", description="second", config=config, note="tune")
        assert (updated.description, updated.config, updated.revision) == ("second", config, 2)
        kept = api.update("web", note="nothing")
        assert (kept.description, kept.config, kept.revision) == ("second", config, 3)
        with pytest.raises(InvalidInput, match="batch_wait_ms"):
            api.update("web", config=ServingConfig(batch_wait_ms=float("nan")))
        with pytest.raises(InvalidInput, match="batch_max_rows"):
            api.update("web", config=ServingConfig(batch_max_rows=0))

        history = api.history("web")
        assert [(e.revision, e.action, e.note, e.actor) for e in history] == [
            (1, Action.CREATE, "", target.actor),
            (2, Action.UPDATE, "tune", target.actor),
            (3, Action.UPDATE, "nothing", target.actor),
        ]
        assert history[1].config == config and history[0].config == ServingConfig()
        api.delete("web")
        assert api.list() == []
        with pytest.raises(NotFound, match="deployment 'web' not found"):
            api.history("web")
