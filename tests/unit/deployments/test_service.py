"""The rules of DeploymentService, over a real (SQLite) store and model registry."""

from __future__ import annotations

import pytest

from gnomon._types import Scope
from gnomon.deployments.entities import Action, ArmRole, Routing, ServingConfig
from gnomon.deployments.service import MAX_SHADOWS, DeploymentService
from gnomon.deployments.sql import SqlDeploymentStore
from gnomon.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from gnomon.registry.entities import NewVersion
from gnomon.registry.service import RegistryService
from gnomon.registry.sql import SqlRegistryStore
from gnomon.store.database import Database
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.registry import seed_models

SCOPE = Scope(principal="ann")


@pytest.fixture
def registry(sqlite_db: Database) -> RegistryService:
    registry = RegistryService(SqlRegistryStore(sqlite_db))
    seed(registry, SCOPE)
    return registry


@pytest.fixture
def service(sqlite_db: Database, registry: RegistryService) -> DeploymentService:
    return DeploymentService(SqlDeploymentStore(sqlite_db), registry)


@pytest.fixture
def web(service: DeploymentService) -> str:
    service.create(SCOPE, "web", "churn@production")
    return "web"


def seed(registry: RegistryService, scope: Scope) -> None:
    """churn versions 1-3 (production → 1, staging → 2) and fraud version 1."""
    seed_models(registry, scope)
    registry.set_alias(scope, "churn", "staging", 2)


def arms(service: DeploymentService, name: str = "web") -> list[tuple[str, ArmRole, int]]:
    return [(a.ref, a.role, a.weight) for a in service.get(SCOPE, name).routing.arms]


# -- create ----------------------------------------------------------------------------------


def test_create_routes_everything_to_the_model(service: DeploymentService) -> None:
    created = service.create(SCOPE, "web", "churn@production", description="site")
    assert created.routing == Routing.single("churn", "production")
    assert (created.revision, created.description, created.created_by) == (1, "site", "ann")
    assert created.config == ServingConfig()
    assert service.list(SCOPE) == [created]


@pytest.mark.parametrize(
    ("model", "selector"),
    [("churn/2", "2"), ("churn@staging", "staging"), ("churn", "latest"), ("models:/fraud/1", "1")],
)
def test_model_references(service: DeploymentService, model: str, selector: str) -> None:
    arm = service.create(SCOPE, "web", model).routing.primary
    assert arm.selector == selector


@pytest.mark.parametrize("name", ["", " lead", "a/b", "tab\tname", "x" * 300, None, 3])
def test_bad_names(service: DeploymentService, name: object) -> None:
    with pytest.raises(InvalidInput, match="deployment name"):
        service.create(SCOPE, name, "churn/1")  # type: ignore[arg-type]


def test_duplicate_name(service: DeploymentService, web: str) -> None:
    with pytest.raises(AlreadyExists, match="'web' already exists"):
        service.create(SCOPE, web, "churn/1")


@pytest.mark.parametrize(
    ("model", "missing"),
    [("ghost/1", "'ghost'"), ("churn/9", "9"), ("churn@canary", "canary"), ("ghost", "'ghost'")],
)
def test_unknown_model_version_or_alias(
    service: DeploymentService, model: str, missing: str
) -> None:
    with pytest.raises(NotFound, match=missing):
        service.create(SCOPE, "web", model)
    assert service.list(SCOPE) == []


@pytest.mark.parametrize("model", ["churn/0", "churn/abc", "churn@latest", "", None, "a@b@c"])
def test_bad_model_references(service: DeploymentService, model: object) -> None:
    with pytest.raises(InvalidInput):
        service.create(SCOPE, "web", model)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (ServingConfig(policy="drop"), "unknown policy 'drop'"),
        (ServingConfig(batching="yes"), "batching must be"),  # type: ignore[arg-type]
        (ServingConfig(batch_max_rows=0), "batch_max_rows"),
        (ServingConfig(batch_max_rows=100_001), "batch_max_rows"),
        (ServingConfig(batch_max_rows=True), "batch_max_rows"),
        (ServingConfig(batch_max_rows=1.5), "batch_max_rows"),  # type: ignore[arg-type]
        (ServingConfig(batch_wait_ms=-1), "batch_wait_ms"),
        (ServingConfig(batch_wait_ms=1001), "batch_wait_ms"),
        (ServingConfig(batch_wait_ms=float("nan")), "batch_wait_ms"),
        (ServingConfig(batch_wait_ms=float("inf")), "batch_wait_ms"),
        (ServingConfig(batch_wait_ms="2"), "batch_wait_ms"),  # type: ignore[arg-type]
    ],
)
def test_bad_config(
    service: DeploymentService, web: str, config: ServingConfig, problem: str
) -> None:
    with pytest.raises(InvalidInput, match=problem):
        service.create(SCOPE, "other", "churn/1", config=config)
    with pytest.raises(InvalidInput, match=problem):
        service.update(SCOPE, web, config=config)
    assert service.get(SCOPE, web).revision == 1


# -- routes ----------------------------------------------------------------------------------


def test_canary_takes_its_share_from_the_primary(service: DeploymentService, web: str) -> None:
    changed = service.set_route(SCOPE, web, "churn/2", canary=10, note="try v2")
    assert changed.revision == 2
    assert arms(service) == [
        ("churn@production", ArmRole.PRIMARY, 90),
        ("churn/2", ArmRole.CANARY, 10),
    ]
    assert service.history(SCOPE, web)[-1].note == "try v2"


@pytest.mark.parametrize("weight", [0, 100, -5, 150, True, 1.5, "10"])
def test_bad_weights(service: DeploymentService, web: str, weight: object) -> None:
    with pytest.raises(InvalidInput, match="weight must be a whole percentage"):
        service.set_route(SCOPE, web, "churn/2", canary=weight)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="weight must be a whole percentage"):
        service.set_route(SCOPE, web, "churn/2", ab_key="user", ab_weight=weight)  # type: ignore[arg-type]
    assert service.get(SCOPE, web).revision == 1


@pytest.mark.parametrize(
    "modes",
    [
        {"canary": 10, "shadow": True},
        {"canary": 10, "ab_key": "user"},
        {"ab_key": "user", "shadow": True},
    ],
)
def test_two_modes_at_once(service: DeploymentService, web: str, modes: dict[str, object]) -> None:
    with pytest.raises(InvalidInput, match="choose one of canary, A/B key or shadow"):
        service.set_route(SCOPE, web, "churn/2", **modes)  # type: ignore[arg-type]


def test_ab_split_is_sticky_by_its_key(service: DeploymentService, web: str) -> None:
    changed = service.set_route(SCOPE, web, "churn/2", ab_key="customer_id", ab_weight=30)
    assert changed.routing.ab_key == "customer_id"
    assert arms(service) == [("churn@production", ArmRole.PRIMARY, 70), ("churn/2", ArmRole.AB, 30)]
    with pytest.raises(InvalidInput, match="A/B key must be a non-empty string"):
        service.set_route(SCOPE, web, "churn/3", ab_key="")


def test_a_new_candidate_replaces_the_old(service: DeploymentService, web: str) -> None:
    service.set_route(SCOPE, web, "churn/2", ab_key="user")
    changed = service.set_route(SCOPE, web, "churn/3", canary=5)
    assert changed.routing.ab_key is None
    assert arms(service) == [
        ("churn@production", ArmRole.PRIMARY, 95),
        ("churn/3", ArmRole.CANARY, 5),
    ]


def test_shadows_get_a_copy(service: DeploymentService, web: str) -> None:
    service.set_route(SCOPE, web, "churn/2", canary=10)
    service.set_route(SCOPE, web, "fraud/1", shadow=True)
    assert arms(service)[-1] == ("fraud/1", ArmRole.SHADOW, 0)
    assert [a.ref for a in service.get(SCOPE, web).routing.live] == ["churn@production", "churn/2"]


def test_at_most_three_shadows(service: DeploymentService, web: str) -> None:
    for model in ("churn/2", "churn/3", "fraud/1")[:MAX_SHADOWS]:
        service.set_route(SCOPE, web, model, shadow=True)
    with pytest.raises(InvalidInput, match=f"at most {MAX_SHADOWS} shadows"):
        service.set_route(SCOPE, web, "churn@staging", shadow=True)


@pytest.mark.parametrize(
    "route",
    [
        {"model": "churn@production", "canary": 10},
        {"model": "churn@production", "shadow": True},
        {"model": "churn/2", "shadow": True},  # already the canary below
    ],
)
def test_duplicate_arm(service: DeploymentService, web: str, route: dict[str, object]) -> None:
    service.set_route(SCOPE, web, "churn/2", canary=10)
    with pytest.raises(InvalidInput, match="already answers this deployment"):
        service.set_route(SCOPE, web, **route)  # type: ignore[arg-type]


@pytest.mark.parametrize(("model", "missing"), [("ghost/1", "'ghost'"), ("churn/9", "9")])
def test_routes_to_unknown_versions(
    service: DeploymentService, web: str, model: str, missing: str
) -> None:
    for mode in ({"canary": 10}, {"shadow": True}, {}):
        with pytest.raises(NotFound, match=missing):
            service.set_route(SCOPE, web, model, **mode)  # type: ignore[arg-type]
    assert service.get(SCOPE, web).revision == 1


def test_a_direct_rollout_drops_the_candidate_and_keeps_shadows(
    service: DeploymentService, web: str
) -> None:
    service.set_route(SCOPE, web, "churn/2", canary=10)
    service.set_route(SCOPE, web, "fraud/1", shadow=True)
    service.set_route(SCOPE, web, "churn/3")
    assert arms(service) == [("churn/3", ArmRole.PRIMARY, 100), ("fraud/1", ArmRole.SHADOW, 0)]


def test_remove_route(service: DeploymentService, web: str) -> None:
    service.set_route(SCOPE, web, "churn/2", ab_key="user")
    service.set_route(SCOPE, web, "fraud/1", shadow=True)
    kept = service.remove_route(SCOPE, web, "fraud/1")
    assert kept.routing.ab_key == "user"  # the A/B arm is still there
    service.remove_route(SCOPE, web, "churn/2", note="v2 lost")
    assert arms(service) == [("churn@production", ArmRole.PRIMARY, 100)]
    assert service.get(SCOPE, web).routing.ab_key is None


def test_remove_route_refuses_the_primary_and_strangers(
    service: DeploymentService, web: str
) -> None:
    with pytest.raises(InvalidInput, match="is the primary of 'web'"):
        service.remove_route(SCOPE, web, "churn@production")
    with pytest.raises(InvalidInput, match="does not route to 'churn/3'"):
        service.remove_route(SCOPE, web, "churn/3")


def test_an_arm_on_latest_is_named_so_it_parses_back(service: DeploymentService, web: str) -> None:
    service.set_route(SCOPE, web, "fraud", shadow=True)
    arm = service.get(SCOPE, web).routing.shadows[0]
    assert (arm.ref, arm.uri) == ("fraud/latest", "models:/fraud/latest")
    service.remove_route(SCOPE, web, arm.ref)
    assert service.get(SCOPE, web).routing.shadows == ()


# -- promote and rollback --------------------------------------------------------------------


def test_promote_the_candidate(service: DeploymentService, web: str) -> None:
    service.set_route(SCOPE, web, "churn/2", canary=10)
    service.set_route(SCOPE, web, "fraud/1", shadow=True)
    promoted = service.promote(SCOPE, web, note="v2 is better")
    assert arms(service) == [("churn/2", ArmRole.PRIMARY, 100), ("fraud/1", ArmRole.SHADOW, 0)]
    assert service.history(SCOPE, web)[-1].action is Action.PROMOTE
    assert promoted.revision == 4


def test_promote_a_named_shadow(service: DeploymentService, web: str) -> None:
    service.set_route(SCOPE, web, "churn/3", shadow=True)
    service.set_route(SCOPE, web, "fraud/1", shadow=True)
    service.promote(SCOPE, web, "churn/3")
    assert arms(service) == [("churn/3", ArmRole.PRIMARY, 100), ("fraud/1", ArmRole.SHADOW, 0)]


def test_promote_without_a_candidate(service: DeploymentService, web: str) -> None:
    with pytest.raises(InvalidInput, match="no canary or A/B arm to promote"):
        service.promote(SCOPE, web)
    with pytest.raises(InvalidInput, match="does not route to 'churn/3'"):
        service.promote(SCOPE, web, "churn/3")
    with pytest.raises(InvalidInput, match="already the primary"):
        service.promote(SCOPE, web, "churn@production")


def test_rollback_reverts_to_the_previous_revision(service: DeploymentService, web: str) -> None:
    service.update(SCOPE, web, config=ServingConfig(policy="warn"))
    service.set_route(SCOPE, web, "churn/2", canary=10)
    back = service.rollback(SCOPE, web, note="errors up")
    assert back.revision == 4 and back.routing == Routing.single("churn", "production")
    assert back.config.policy == "warn"
    again = service.rollback(SCOPE, web)  # undoing the undo, like kubectl rollout undo
    assert [a.ref for a in again.routing.arms] == ["churn@production", "churn/2"]
    history = service.history(SCOPE, web)
    assert [e.action for e in history] == [
        Action.CREATE,
        Action.UPDATE,
        Action.SET_ROUTE,
        Action.ROLLBACK,
        Action.ROLLBACK,
    ]
    assert history[3].note == "errors up"


def test_rollback_of_a_config_change(service: DeploymentService, web: str) -> None:
    service.update(SCOPE, web, config=ServingConfig("clip", False, 16, 5.0))
    assert service.rollback(SCOPE, web).config == ServingConfig()


def test_rollback_needs_an_earlier_revision(service: DeploymentService, web: str) -> None:
    with pytest.raises(InvalidInput, match="no earlier revision"):
        service.rollback(SCOPE, web)


# -- update, history, delete, resolve --------------------------------------------------------


def test_update_description_and_config(service: DeploymentService, web: str) -> None:
    config = ServingConfig("warn", True, 128, 0)
    changed = service.update(SCOPE, web, description="new", config=config, note="tune")
    assert (changed.description, changed.config, changed.revision) == ("new", config, 2)
    assert changed.routing == Routing.single("churn", "production")
    kept = service.update(SCOPE, web, description="newer")
    assert kept.config == config
    with pytest.raises(InvalidInput, match="description"):
        service.update(SCOPE, web, description=3)  # type: ignore[arg-type]


def test_resolve_follows_aliases_and_latest(
    service: DeploymentService, registry: RegistryService, web: str
) -> None:
    service.set_route(SCOPE, web, "churn", canary=20)
    deployment, resolved = service.resolve(SCOPE, web)
    assert deployment.name == web
    assert [(r.arm.ref, r.version) for r in resolved] == [
        ("churn@production", 1),
        ("churn/latest", 3),
    ]
    assert resolved[0].storage_uri == "/tmp/churn/1"
    registry.set_alias(SCOPE, "churn", "production", 2)
    new = NewVersion("import:churn-4", "/tmp/churn/4", "ann")
    registry.create_version(SCOPE, "churn", new)
    assert [r.version for r in service.resolve(SCOPE, web)[1]] == [2, 4]


def test_delete(service: DeploymentService, web: str) -> None:
    service.delete(SCOPE, web)
    for call in (
        lambda: service.get(SCOPE, web),
        lambda: service.history(SCOPE, web),
        lambda: service.delete(SCOPE, web),
        lambda: service.rollback(SCOPE, web),
    ):
        with pytest.raises(NotFound, match="deployment 'web' not found"):
            call()


def test_a_stale_change_is_a_conflict(
    service: DeploymentService, web: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = service.get(SCOPE, web)
    other = DeploymentService(service.store, service.registry)  # another operator
    other.set_route(SCOPE, web, "churn/2", canary=10)
    monkeypatch.setattr(service, "get", lambda scope, name: stale)  # read before their write
    with pytest.raises(Conflict, match="changed meanwhile"):
        service.set_route(SCOPE, web, "churn/3", canary=20)
    monkeypatch.undo()
    assert arms(service)[-1] == ("churn/2", ArmRole.CANARY, 10)
    assert service.get(SCOPE, web).revision == 2


def test_workspaces_are_isolated(
    service: DeploymentService, registry: RegistryService, sqlite_db: Database, web: str
) -> None:
    other = fresh_workspace(sqlite_db)
    assert service.list(other) == []
    with pytest.raises(NotFound, match="deployment 'web' not found"):
        service.get(other, web)
    with pytest.raises(NotFound, match="deployment 'web' not found"):
        service.set_route(other, web, "churn/2", canary=10)
    with pytest.raises(NotFound, match="'churn'"):  # their registry has no churn
        service.create(other, web, "churn/1")
    seed(registry, other)
    theirs = service.create(other, web, "churn/2")
    assert theirs.workspace_id == other.workspace != service.get(SCOPE, web).workspace_id
    assert service.get(SCOPE, web).routing == Routing.single("churn", "production")
