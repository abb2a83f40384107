"""The RegistryStore contract, one suite for every implementation (SQLite, PostgreSQL, later
HTTP).

Subclasses supply ``store`` (a RegistryStore), ``scope`` (a workspace of its own) and
``other_scope`` (a second workspace on the same database).
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from gnomon._types import Scope
from gnomon.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from gnomon.registry.entities import (
    LoggedModel,
    ModelQuery,
    ModelVersion,
    NewVersion,
    VersionQuery,
    VersionStatus,
    VersionUpdate,
)
from gnomon.registry.store import RegistryStore
from gnomon.store.database import Database
from gnomon.tracking.entities import NewRun, RunStatus, RunUpdate
from gnomon.tracking.sql import SqlTrackingStore

SHA_A, SHA_B, SHA_C = "a" * 64, "b" * 64, "c" * 64


def add_version(
    store: RegistryStore, scope: Scope, name: str, run_id: str = "r1", **kw: object
) -> ModelVersion:
    spec = NewVersion(
        source=f"runs:/{run_id}/model",
        run_id=run_id,
        storage_uri=f"/tmp/registry/{name}/{run_id}",
        created_by="ann",
        flavor="sklearn",
        **kw,  # type: ignore[arg-type]
    )
    return store.create_version(scope, name, spec)


class RegistryStoreContract:
    __test__ = False

    # -- models ------------------------------------------------------------------------------

    def test_create_and_get_model(self, store: RegistryStore, scope: Scope) -> None:
        created = store.create_model(scope, "churn", "predicts churn", {"team": "growth"})
        assert (created.name, created.description) == ("churn", "predicts churn")
        assert created.tags == {"team": "growth"}
        assert created.latest_version is None
        assert created.aliases == {}
        assert created.workspace_id == scope.workspace
        assert store.get_model(scope, "churn") == created

    def test_duplicate_model_name(self, store: RegistryStore, scope: Scope) -> None:
        store.create_model(scope, "churn", "", {})
        with pytest.raises(AlreadyExists, match="'churn' already exists"):
            store.create_model(scope, "churn", "", {})

    def test_unknown_model_is_named(self, store: RegistryStore, scope: Scope) -> None:
        for call in (
            lambda: store.get_model(scope, "ghost"),
            lambda: store.update_model(scope, "ghost", "d"),
            lambda: store.set_model_tag(scope, "ghost", "k", "v"),
            lambda: store.delete_model(scope, "ghost"),
            lambda: add_version(store, scope, "ghost"),
            lambda: store.get_version(scope, "ghost", 1),
            lambda: store.set_alias(scope, "ghost", "production", 1, "ann"),
            lambda: store.get_version_by_alias(scope, "ghost", "production"),
            lambda: store.list_alias_events(scope, "ghost"),
        ):
            with pytest.raises(NotFound, match="model 'ghost' not found"):
                call()

    def test_update_model_and_tags(self, store: RegistryStore, scope: Scope) -> None:
        store.create_model(scope, "churn", "", {"a": "1"})
        assert store.update_model(scope, "churn", "better").description == "better"
        store.set_model_tag(scope, "churn", "a", "2")
        store.set_model_tag(scope, "churn", "b", "3")
        assert store.get_model(scope, "churn").tags == {"a": "2", "b": "3"}
        store.delete_model_tag(scope, "churn", "a")
        assert store.get_model(scope, "churn").tags == {"b": "3"}
        with pytest.raises(NotFound, match="tag 'a'"):
            store.delete_model_tag(scope, "churn", "a")

    def test_search_models_by_name_and_tag(self, store: RegistryStore, scope: Scope) -> None:
        store.create_model(scope, "churn-a", "", {"team": "growth"})
        store.create_model(scope, "churn-b", "", {"team": "risk"})
        store.create_model(scope, "fraud", "", {"team": "growth"})
        names = [m.name for m in store.search_models(scope, ModelQuery(name_like="churn%"))]
        assert names == ["churn-a", "churn-b"]
        # Case-insensitive on every backend.
        names = [m.name for m in store.search_models(scope, ModelQuery(name_like="CHURN%"))]
        assert names == ["churn-a", "churn-b"]
        growth = store.search_models(scope, ModelQuery(tags={"team": "growth"}))
        assert [m.name for m in growth] == ["churn-a", "fraud"]
        both = store.search_models(scope, ModelQuery(name_like="%a", tags={"team": "growth"}))
        assert [m.name for m in both] == ["churn-a"]

    def test_search_models_pages(self, store: RegistryStore, scope: Scope) -> None:
        for name in "edcba":
            store.create_model(scope, name, "", {})
        first = store.search_models(scope, ModelQuery(max_results=2))
        assert [m.name for m in first] == ["a", "b"]
        second = store.search_models(
            scope, ModelQuery(max_results=2, page_token=first.next_page_token)
        )
        third = store.search_models(
            scope, ModelQuery(max_results=2, page_token=second.next_page_token)
        )
        assert [m.name for m in second] + [m.name for m in third] == ["c", "d", "e"]
        assert third.next_page_token is None
        with pytest.raises(InvalidInput, match="page token"):
            store.search_models(scope, ModelQuery(page_token="garbage!"))

    def test_delete_model_refused_while_versions_remain(
        self, store: RegistryStore, scope: Scope
    ) -> None:
        store.create_model(scope, "churn", "", {"a": "1"})
        add_version(store, scope, "churn")
        with pytest.raises(Conflict, match="1 version"):
            store.delete_model(scope, "churn")
        store.set_alias(scope, "churn", "production", 1, "ann")
        store.delete_version(scope, "churn", 1, "ann")
        store.delete_model(scope, "churn")
        with pytest.raises(NotFound):
            store.get_model(scope, "churn")
        # The name is free again, with a fresh history.
        store.create_model(scope, "churn", "", {})
        assert store.list_alias_events(scope, "churn") == []
        assert add_version(store, scope, "churn").version == 1

    def test_models_of_another_workspace_are_not_found(
        self, store: RegistryStore, scope: Scope, other_scope: Scope
    ) -> None:
        store.create_model(scope, "churn", "", {})
        add_version(store, scope, "churn")
        with pytest.raises(NotFound):
            store.get_model(other_scope, "churn")
        with pytest.raises(NotFound):
            store.get_version(other_scope, "churn", 1)
        assert list(store.search_models(other_scope, ModelQuery())) == []
        assert list(store.search_versions(other_scope, VersionQuery())) == []
        theirs = store.create_model(other_scope, "churn", "", {})
        assert theirs.id != store.get_model(scope, "churn").id
        assert add_version(store, other_scope, "churn").version == 1

    # -- versions ----------------------------------------------------------------------------

    def test_versions_are_numbered_from_one(self, store: RegistryStore, scope: Scope) -> None:
        store.create_model(scope, "churn", "", {})
        first = add_version(store, scope, "churn", "r1", description="d", tags={"k": "v"})
        second = add_version(store, scope, "churn", "r2")
        assert (first.version, second.version) == (1, 2)
        assert first.model_name == "churn"
        assert first.source == "runs:/r1/model"
        assert first.run_id == "r1"
        assert first.storage_uri == "/tmp/registry/churn/r1"
        assert first.status is VersionStatus.READY
        assert (first.flavor, first.created_by, first.description) == ("sklearn", "ann", "d")
        assert first.tags == {"k": "v"}
        assert store.get_version(scope, "churn", 1) == first
        assert store.get_model(scope, "churn").latest_version == 2

    def test_deleted_version_numbers_are_not_reused(
        self, store: RegistryStore, scope: Scope
    ) -> None:
        store.create_model(scope, "churn", "", {})
        add_version(store, scope, "churn")
        add_version(store, scope, "churn")
        store.delete_version(scope, "churn", 2, "ann")
        assert store.get_model(scope, "churn").latest_version == 1
        assert add_version(store, scope, "churn").version == 3

    def test_unknown_version_is_named(self, store: RegistryStore, scope: Scope) -> None:
        store.create_model(scope, "churn", "", {})
        for call in (
            lambda: store.get_version(scope, "churn", 7),
            lambda: store.update_version(scope, "churn", 7, VersionUpdate(description="d")),
            lambda: store.set_version_tag(scope, "churn", 7, "k", "v"),
            lambda: store.delete_version_tag(scope, "churn", 7, "k"),
            lambda: store.delete_version(scope, "churn", 7, "ann"),
            lambda: store.set_alias(scope, "churn", "production", 7, "ann"),
        ):
            with pytest.raises(NotFound, match="version 7 of registered model 'churn'"):
                call()

    def test_update_version(self, store: RegistryStore, scope: Scope) -> None:
        store.create_model(scope, "churn", "", {})
        add_version(store, scope, "churn")
        archived = store.update_version(
            scope, "churn", 1, VersionUpdate(status=VersionStatus.ARCHIVED)
        )
        assert archived.status is VersionStatus.ARCHIVED
        described = store.update_version(scope, "churn", 1, VersionUpdate(description="why"))
        assert (described.status, described.description) == (VersionStatus.ARCHIVED, "why")
        ready = store.update_version(scope, "churn", 1, VersionUpdate(status=VersionStatus.READY))
        assert ready.status is VersionStatus.READY
        assert store.get_version(scope, "churn", 1) == ready

    def test_version_tags(self, store: RegistryStore, scope: Scope) -> None:
        store.create_model(scope, "churn", "", {})
        add_version(store, scope, "churn", tags={"a": "1"})
        add_version(store, scope, "churn")
        store.set_version_tag(scope, "churn", 1, "a", "2")
        store.set_version_tag(scope, "churn", 1, "b", "3")
        assert store.get_version(scope, "churn", 1).tags == {"a": "2", "b": "3"}
        assert store.get_version(scope, "churn", 2).tags == {}
        store.delete_version_tag(scope, "churn", 1, "a")
        assert store.get_version(scope, "churn", 1).tags == {"b": "3"}
        with pytest.raises(NotFound, match="tag 'a'"):
            store.delete_version_tag(scope, "churn", 1, "a")

    def test_search_versions(self, store: RegistryStore, scope: Scope) -> None:
        store.create_model(scope, "a", "", {})
        store.create_model(scope, "b", "", {})
        add_version(store, scope, "a", "r1", tags={"stage": "x"})
        add_version(store, scope, "a", "r2")
        add_version(store, scope, "b", "r1", tags={"stage": "x"})
        store.update_version(scope, "a", 2, VersionUpdate(status=VersionStatus.ARCHIVED))

        def found(**kw: object) -> list[tuple[str, int]]:
            page = store.search_versions(scope, VersionQuery(**kw))  # type: ignore[arg-type]
            return [(mv.model_name, mv.version) for mv in page]

        assert found() == [("a", 2), ("a", 1), ("b", 1)]
        assert found(model_name="a") == [("a", 2), ("a", 1)]
        assert found(run_id="r1") == [("a", 1), ("b", 1)]
        assert found(status=VersionStatus.READY) == [("a", 1), ("b", 1)]
        assert found(status=VersionStatus.ARCHIVED) == [("a", 2)]
        assert found(tags={"stage": "x"}, model_name="b") == [("b", 1)]
        assert found(model_name="ghost") == []
        first = store.search_versions(scope, VersionQuery(max_results=2))
        assert first.next_page_token is not None
        rest = store.search_versions(
            scope, VersionQuery(max_results=2, page_token=first.next_page_token)
        )
        assert [(mv.model_name, mv.version) for mv in rest] == [("b", 1)]
        assert rest.next_page_token is None

    # -- aliases -----------------------------------------------------------------------------

    def test_set_and_move_alias(self, store: RegistryStore, scope: Scope) -> None:
        store.create_model(scope, "churn", "", {})
        add_version(store, scope, "churn")
        add_version(store, scope, "churn")
        first = store.set_alias(scope, "churn", "production", 1, "ann")
        assert (first.version, first.previous, first.actor) == (1, None, "ann")
        assert store.get_version_by_alias(scope, "churn", "production").version == 1
        moved = store.set_alias(scope, "churn", "production", 2, "bob")
        assert (moved.version, moved.previous, moved.actor) == (2, 1, "bob")
        store.set_alias(scope, "churn", "staging", 2, "ann")
        got = store.get_version_by_alias(scope, "churn", "production")
        assert (got.version, got.aliases) == (2, ["production", "staging"])
        assert store.get_version(scope, "churn", 1).aliases == []
        assert store.get_model(scope, "churn").aliases == {"production": 2, "staging": 2}
        events = store.list_alias_events(scope, "churn")
        assert [(e.alias, e.version, e.previous, e.actor) for e in events] == [
            ("production", 1, None, "ann"),
            ("production", 2, 1, "bob"),
            ("staging", 2, None, "ann"),
        ]
        assert all(e.model_name == "churn" and e.time > 0 for e in events)
        only = store.list_alias_events(scope, "churn", "staging")
        assert [(e.alias, e.version) for e in only] == [("staging", 2)]

    def test_delete_alias(self, store: RegistryStore, scope: Scope) -> None:
        store.create_model(scope, "churn", "", {})
        add_version(store, scope, "churn")
        store.set_alias(scope, "churn", "production", 1, "ann")
        event = store.delete_alias(scope, "churn", "production", "bob")
        assert (event.version, event.previous, event.actor) == (None, 1, "bob")
        with pytest.raises(NotFound, match="no alias 'production'"):
            store.get_version_by_alias(scope, "churn", "production")
        with pytest.raises(NotFound, match="no alias 'production'"):
            store.delete_alias(scope, "churn", "production", "bob")
        assert [e.version for e in store.list_alias_events(scope, "churn")] == [1, None]

    def test_deleting_a_version_removes_its_aliases(
        self, store: RegistryStore, scope: Scope
    ) -> None:
        store.create_model(scope, "churn", "", {})
        add_version(store, scope, "churn", tags={"k": "v"})
        add_version(store, scope, "churn")
        store.set_alias(scope, "churn", "production", 1, "ann")
        store.set_alias(scope, "churn", "staging", 1, "ann")
        store.set_alias(scope, "churn", "canary", 2, "ann")
        store.delete_version(scope, "churn", 1, "bob")
        with pytest.raises(NotFound, match="version 1 of registered model 'churn'"):
            store.get_version(scope, "churn", 1)
        assert store.get_model(scope, "churn").aliases == {"canary": 2}
        removed = [
            (e.alias, e.version, e.previous, e.actor)
            for e in store.list_alias_events(scope, "churn")
            if e.version is None
        ]
        assert sorted(removed) == [("production", None, 1, "bob"), ("staging", None, 1, "bob")]
        assert store.get_version(scope, "churn", 2).aliases == ["canary"]

    # -- recorded digests ----------------------------------------------------------------------

    def test_a_version_keeps_its_recorded_digests(self, store: RegistryStore, scope: Scope) -> None:
        store.create_model(scope, "churn", "", {})
        created = add_version(store, scope, "churn", files={"m.bin": SHA_A}, spec_sha256=SHA_B)
        assert (created.files, created.spec_sha256) == ({"m.bin": SHA_A}, SHA_B)
        assert store.get_version(scope, "churn", 1) == created
        bare = add_version(store, scope, "churn")
        assert (bare.files, bare.spec_sha256) == ({}, None)

    def test_the_yaml_digest_moves_only_from_the_one_read(
        self, store: RegistryStore, scope: Scope
    ) -> None:
        store.create_model(scope, "churn", "", {})
        add_version(store, scope, "churn", files={"m.bin": SHA_A}, spec_sha256=SHA_A)
        moved = store.update_version(
            scope, "churn", 1, VersionUpdate(spec_sha256=SHA_B, previous_spec_sha256=SHA_A)
        )
        assert moved.spec_sha256 == SHA_B
        with pytest.raises(Conflict, match="changed meanwhile"):
            store.update_version(
                scope, "churn", 1, VersionUpdate(spec_sha256=SHA_C, previous_spec_sha256=SHA_A)
            )
        version = store.get_version(scope, "churn", 1)
        assert (version.spec_sha256, version.files) == (SHA_B, {"m.bin": SHA_A})

    def test_logged_models_are_recorded_once_per_path(
        self, store: RegistryStore, scope: Scope, other_scope: Scope, running_run: str
    ) -> None:
        model = LoggedModel(running_run, "model", {"m.bin": SHA_A}, SHA_B, 1)
        assert store.record_logged_model(scope, model) == model
        store.record_logged_model(scope, replace(model, path="sub/model"))
        with pytest.raises(Conflict, match="already logged a model at 'model'"):
            store.record_logged_model(scope, replace(model, files={}))
        assert store.list_logged_models(scope, running_run) == [
            model,
            replace(model, path="sub/model"),
        ]
        with pytest.raises(NotFound, match=running_run):
            store.record_logged_model(other_scope, replace(model, path="stolen"))
        assert store.list_logged_models(other_scope, running_run) == []

    def test_only_a_running_run_records_a_model(
        self, store: RegistryStore, scope: Scope, db: Database, running_run: str
    ) -> None:
        tracking = SqlTrackingStore(db)
        tracking.update_run(scope, running_run, RunUpdate(status=RunStatus.FINISHED))
        model = LoggedModel(running_run, "model", {}, SHA_B, 1)
        with pytest.raises(Conflict, match="FINISHED"):
            store.record_logged_model(scope, model)
        assert store.list_logged_models(scope, running_run) == []

    @pytest.fixture
    def running_run(self, db: Database, scope: Scope) -> str:
        tracking = SqlTrackingStore(db)
        experiment = tracking.create_experiment(scope, uuid.uuid4().hex, "/tmp/artifacts")
        new = NewRun(experiment_id=experiment.id, name="r", user="ann", start_time=1)
        return tracking.create_run(scope, new).id
