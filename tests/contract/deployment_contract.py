"""The DeploymentStore contract, one suite for every implementation (SQLite, PostgreSQL).

Subclasses supply ``store`` (a DeploymentStore), ``scope`` (a workspace of its own) and
``other_scope`` (a second workspace on the same database). The store checks no routing rule
(the service does): it keeps what it is given, whole, and orders changes by revision.
"""

from __future__ import annotations

import pytest

from gnomon._types import Scope
from gnomon.deployments.entities import (
    Action,
    Arm,
    ArmRole,
    Deployment,
    Routing,
    ServingConfig,
)
from gnomon.deployments.store import DeploymentStore
from gnomon.errors import AlreadyExists, Conflict, NotFound

PRIMARY = Routing.single("churn", "production")
CANARY = Routing(
    (Arm("churn", "production", ArmRole.PRIMARY, 90), Arm("churn", "8", ArmRole.CANARY, 10))
)
AB_WITH_SHADOW = Routing(
    (
        Arm("churn", "7", ArmRole.PRIMARY, 60),
        Arm("churn", "8", ArmRole.AB, 40),
        Arm("fraud", "latest", ArmRole.SHADOW, 0),
    ),
    ab_key="customer_id",
)


def create(store: DeploymentStore, scope: Scope, name: str = "web") -> Deployment:
    return store.create(scope, name, "the web endpoint", PRIMARY, ServingConfig())


class DeploymentStoreContract:
    __test__ = False

    def test_create_and_get(self, store: DeploymentStore, scope: Scope) -> None:
        created = create(store, scope)
        assert (created.name, created.description, created.revision) == (
            "web",
            "the web endpoint",
            1,
        )
        assert created.routing == PRIMARY and created.config == ServingConfig()
        assert created.workspace_id == scope.workspace
        assert created.created_by == scope.principal
        assert created.created_time == created.updated_time > 0
        assert store.get(scope, "web") == created

    def test_duplicate_name(self, store: DeploymentStore, scope: Scope) -> None:
        create(store, scope)
        with pytest.raises(AlreadyExists, match="'web' already exists"):
            create(store, scope)

    def test_unknown_deployment_is_named(self, store: DeploymentStore, scope: Scope) -> None:
        for call in (
            lambda: store.get(scope, "ghost"),
            lambda: store.events(scope, "ghost"),
            lambda: store.delete(scope, "ghost"),
            lambda: store.change(
                scope, "ghost", 1, Action.UPDATE, PRIMARY, ServingConfig(), "", ""
            ),
        ):
            with pytest.raises(NotFound, match="deployment 'ghost' not found"):
                call()

    def test_list_is_by_name(self, store: DeploymentStore, scope: Scope) -> None:
        assert store.list(scope) == []
        for name in ("web", "batch", "mobile"):
            create(store, scope, name)
        assert [d.name for d in store.list(scope)] == ["batch", "mobile", "web"]

    def test_routing_and_config_round_trip(self, store: DeploymentStore, scope: Scope) -> None:
        for batching in (None, True, False):
            config = ServingConfig("clip", batching, 512, 0.5)
            name = f"web-{batching}"
            created = store.create(scope, name, "", AB_WITH_SHADOW, config)
            listed = {d.name: d for d in store.list(scope)}[name]
            for found in (created, store.get(scope, name), listed):
                assert found.routing == AB_WITH_SHADOW and found.config == config
            assert store.events(scope, name)[0].config == config

    def test_change_writes_the_next_revision(self, store: DeploymentStore, scope: Scope) -> None:
        first = create(store, scope)
        config = ServingConfig("warn", False, 8, 1.0)
        changed = store.change(
            scope, "web", 1, Action.SET_ROUTE, CANARY, config, "now with a canary", "try v8"
        )
        assert (changed.revision, changed.routing, changed.config) == (2, CANARY, config)
        assert changed.description == "now with a canary"
        assert changed.id == first.id and changed.created_time == first.created_time
        assert changed.updated_time >= first.updated_time
        assert store.get(scope, "web") == changed

    def test_events_are_the_history(self, store: DeploymentStore, scope: Scope) -> None:
        create(store, scope)
        store.change(scope, "web", 1, Action.SET_ROUTE, CANARY, ServingConfig(), "", "canary")
        store.change(scope, "web", 2, Action.ROLLBACK, PRIMARY, ServingConfig("warn"), "", "")
        events = store.events(scope, "web")
        assert [(e.revision, e.action, e.note) for e in events] == [
            (1, Action.CREATE, ""),
            (2, Action.SET_ROUTE, "canary"),
            (3, Action.ROLLBACK, ""),
        ]
        assert [e.routing for e in events] == [PRIMARY, CANARY, PRIMARY]
        assert events[2].config.policy == "warn"
        assert {e.deployment for e in events} == {"web"}
        assert {e.actor for e in events} == {scope.principal}
        assert events[0].time <= events[1].time <= events[2].time

    def test_event_is_one_revision_of_the_history(
        self, store: DeploymentStore, scope: Scope
    ) -> None:
        create(store, scope)
        config = ServingConfig("warn")
        store.change(scope, "web", 1, Action.SET_ROUTE, CANARY, config, "", "canary")
        assert store.event(scope, "web", 2) == store.events(scope, "web")[1]
        assert (store.event(scope, "web", 1).routing, store.event(scope, "web", 2).config) == (
            PRIMARY,
            config,
        )
        with pytest.raises(NotFound, match="deployment 'web' has no revision 3"):
            store.event(scope, "web", 3)
        with pytest.raises(NotFound, match="deployment 'ghost' not found"):
            store.event(scope, "ghost", 1)

    def test_stale_revision_is_a_conflict_and_writes_nothing(
        self, store: DeploymentStore, scope: Scope
    ) -> None:
        create(store, scope)
        store.change(scope, "web", 1, Action.SET_ROUTE, CANARY, ServingConfig(), "", "")
        with pytest.raises(Conflict, match="now at revision 2, expected 1"):
            store.change(scope, "web", 1, Action.UPDATE, PRIMARY, ServingConfig(), "", "")
        assert store.get(scope, "web").routing == CANARY
        assert [e.revision for e in store.events(scope, "web")] == [1, 2]

    def test_delete_removes_the_history_and_frees_the_name(
        self, store: DeploymentStore, scope: Scope
    ) -> None:
        create(store, scope)
        store.change(scope, "web", 1, Action.SET_ROUTE, CANARY, ServingConfig(), "", "")
        store.delete(scope, "web")
        with pytest.raises(NotFound):
            store.get(scope, "web")
        assert store.list(scope) == []
        again = create(store, scope)
        assert again.revision == 1
        assert [e.action for e in store.events(scope, "web")] == [Action.CREATE]

    def test_workspaces_are_isolated(
        self, store: DeploymentStore, scope: Scope, other_scope: Scope
    ) -> None:
        create(store, scope)
        assert store.list(other_scope) == []
        for call in (
            lambda: store.get(other_scope, "web"),
            lambda: store.events(other_scope, "web"),
            lambda: store.event(other_scope, "web", 1),
            lambda: store.delete(other_scope, "web"),
            lambda: store.change(
                other_scope, "web", 1, Action.UPDATE, CANARY, ServingConfig(), "", ""
            ),
        ):
            with pytest.raises(NotFound):
                call()
        theirs = create(store, other_scope)  # the same name is free in another workspace
        assert theirs.workspace_id == other_scope.workspace
        assert store.get(scope, "web").routing == PRIMARY
        assert [d.name for d in store.list(scope)] == ["web"]
