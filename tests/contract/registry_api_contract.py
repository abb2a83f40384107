"""The RegistryApi contract (``client.registry``), one suite for embedded and remote mode.

Subclasses supply ``target`` (``tests/fixtures/api_modes.py``). Versions are added through the
registry service behind the API, as files-less records, so nothing here trains or copies a
model (the integration tests do, once). Every error is asserted by class and message: the
same in every mode.
"""

from __future__ import annotations

import pytest

from gnomon.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from gnomon.registry.api import RegistryApi
from gnomon.registry.entities import ModelVersion, NewVersion, VersionStatus
from tests.fixtures.api_modes import Target


def add_version(target: Target, name: str) -> ModelVersion:
    """The next version of ``name`` (the model is created when missing), with no files."""
    new = NewVersion(f"import:{name}", f"/tmp/registry/{name}", "ann")
    return target.registry.create_version(target.scope, name, new)


class RegistryApiContract:
    __test__ = False

    @pytest.fixture
    def api(self, target: Target) -> RegistryApi:
        return target.client.registry

    # -- models ------------------------------------------------------------------------------

    def test_create_get_and_update_a_model(self, api: RegistryApi, target: Target) -> None:
        created = api.create_model("churn", "predicts churn", {"team": "growth", "tier": 1})
        assert (created.name, created.description) == ("churn", "predicts churn")
        assert created.tags == {"team": "growth", "tier": "1"}  # tag values are text
        assert (created.latest_version, created.aliases) == (None, {})
        assert created.workspace_id == target.scope.workspace
        assert api.get_model("churn") == created
        updated = api.update_model("churn", "churn, weekly")
        assert updated.description == "churn, weekly"
        assert updated.updated_time >= created.updated_time
        assert api.get_model("churn") == updated

    def test_model_errors(self, api: RegistryApi) -> None:
        api.create_model("churn")
        with pytest.raises(AlreadyExists, match="'churn' already exists"):
            api.create_model("churn")
        with pytest.raises(InvalidInput, match="contains '/' or '@'"):
            api.create_model("a/b")
        with pytest.raises(InvalidInput, match="model name must be a non-empty string"):
            api.create_model("")
        for call in (
            lambda: api.get_model("ghost"),
            lambda: api.update_model("ghost", "d"),
            lambda: api.delete_model("ghost"),
            lambda: api.alias_history("ghost"),
        ):
            with pytest.raises(NotFound, match="model 'ghost' not found"):
                call()

    def test_search_models_by_pattern_and_tags_in_pages(self, api: RegistryApi) -> None:
        for name, team in (("churn-a", "growth"), ("churn-b", "risk"), ("fraud", "growth")):
            api.create_model(name, tags={"team": team})
        assert [m.name for m in api.search_models("CHURN%")] == ["churn-a", "churn-b"]
        found = api.search_models(tags={"team": "growth"})
        assert [m.name for m in found] == ["churn-a", "fraud"]
        first = api.search_models(max_results=2)
        assert [m.name for m in first] == ["churn-a", "churn-b"]
        assert first.next_page_token is not None
        rest = api.search_models(max_results=2, page_token=first.next_page_token)
        assert ([m.name for m in rest], rest.next_page_token) == (["fraud"], None)
        with pytest.raises(InvalidInput, match="max_results"):
            api.search_models(max_results=0)
        with pytest.raises(InvalidInput, match="token"):
            api.search_models(page_token="not-a-token")

    def test_a_model_with_versions_cannot_be_deleted(
        self, api: RegistryApi, target: Target
    ) -> None:
        add_version(target, "churn")
        with pytest.raises(Conflict, match="churn"):
            api.delete_model("churn")
        api.delete_version("churn", 1)
        api.delete_model("churn")
        with pytest.raises(NotFound, match="model 'churn' not found"):
            api.get_model("churn")

    # -- versions ----------------------------------------------------------------------------

    def test_versions_by_number_alias_and_latest(self, api: RegistryApi, target: Target) -> None:
        first, second = add_version(target, "churn"), add_version(target, "churn")
        api.set_alias("churn", "production", 1)
        assert api.get_version("churn", 1) == api.get_version("churn", "production")
        assert api.get_version("churn", "1").version == first.version == 1
        assert api.get_version("churn").version == second.version == 2  # the latest READY
        assert api.get_version("churn", "latest").version == 2
        assert api.get_model("churn").latest_version == 2
        with pytest.raises(NotFound, match="version 9"):
            api.get_version("churn", 9)
        with pytest.raises(NotFound, match="staging"):
            api.get_version("churn", "staging")
        with pytest.raises(NotFound, match="'ghost'"):
            api.get_version("ghost", 1)

    def test_search_update_archive_and_tag_versions(self, api: RegistryApi, target: Target) -> None:
        for name in ("churn", "churn", "fraud"):
            add_version(target, name)
        found = api.search_versions("churn")
        assert [(v.model_name, v.version) for v in found] == [("churn", 2), ("churn", 1)]
        described = api.update_version("churn", 1, description="first")
        assert (described.description, described.status) == ("first", VersionStatus.READY)
        archived = api.archive_version("churn", 2)
        assert archived.status is VersionStatus.ARCHIVED
        assert [v.version for v in api.search_versions("churn", status="archived")] == [2]
        assert [v.version for v in api.search_versions("churn", status="READY")] == [1]
        assert api.get_version("churn").version == 1  # latest skips the archived one
        restored = api.update_version("churn", 2, status=VersionStatus.READY)
        assert restored.status is VersionStatus.READY and restored.description == ""
        api.set_version_tag("churn", 1, "reviewed", True)
        assert api.get_version("churn", 1).tags == {"reviewed": "True"}
        page = api.search_versions(max_results=2)
        assert len(page) == 2 and page.next_page_token is not None

    def test_version_errors(self, api: RegistryApi, target: Target) -> None:
        add_version(target, "churn")
        with pytest.raises(InvalidInput, match="unknown version status"):
            api.update_version("churn", 1, status="GONE")
        with pytest.raises(InvalidInput, match="positive integer"):
            api.update_version("churn", 0, description="x")
        with pytest.raises(InvalidInput, match="unknown version status"):
            api.search_versions("churn", status="GONE")
        with pytest.raises(NotFound, match="version 5"):
            api.update_version("churn", 5, description="x")
        with pytest.raises(NotFound, match="version 5"):
            api.set_version_tag("churn", 5, "k", "v")
        with pytest.raises(NotFound, match="version 5"):
            api.delete_version("churn", 5)
        with pytest.raises(InvalidInput, match="tag key"):
            api.set_version_tag("churn", 1, "bad key!", "v")

    def test_a_deleted_version_number_is_never_reused(
        self, api: RegistryApi, target: Target
    ) -> None:
        add_version(target, "churn")
        add_version(target, "churn")
        api.set_alias("churn", "production", 2)
        api.delete_version("churn", 2)
        assert [v.version for v in api.search_versions("churn")] == [1]
        assert api.get_model("churn").aliases == {}  # the alias went with its version
        assert add_version(target, "churn").version == 3

    # -- aliases -----------------------------------------------------------------------------

    def test_aliases_move_and_keep_their_history(self, api: RegistryApi, target: Target) -> None:
        add_version(target, "churn")
        add_version(target, "churn")
        set_first = api.set_alias("churn", "production", 1)
        assert (set_first.alias, set_first.version, set_first.previous) == ("production", 1, None)
        moved = api.set_alias("churn", "production", 2)
        assert (moved.version, moved.previous, moved.actor) == (2, 1, target.actor)
        api.set_alias("churn", "staging", 1)
        removed = api.delete_alias("churn", "staging")
        assert (removed.version, removed.previous) == (None, 1)
        assert api.get_model("churn").aliases == {"production": 2}
        assert api.get_version("churn", 2).aliases == ["production"]
        history = api.alias_history("churn", "production")
        assert [(e.previous, e.version) for e in history] == [(None, 1), (1, 2)]
        assert len(api.alias_history("churn")) == 4
        assert {e.actor for e in api.alias_history("churn")} == {target.actor}

    def test_alias_errors(self, api: RegistryApi, target: Target) -> None:
        add_version(target, "churn")
        with pytest.raises(InvalidInput, match="alias '123' reads like a version number"):
            api.set_alias("churn", "123", 1)
        with pytest.raises(InvalidInput, match="reserved"):
            api.set_alias("churn", "latest", 1)
        with pytest.raises(NotFound, match="version 7"):
            api.set_alias("churn", "production", 7)
        with pytest.raises(NotFound, match="production"):
            api.delete_alias("churn", "production")
        with pytest.raises(NotFound, match="model 'ghost' not found"):
            api.set_alias("ghost", "production", 1)

    # -- logged models -----------------------------------------------------------------------

    def test_the_models_of_an_unknown_run_are_not_found(self, api: RegistryApi) -> None:
        with pytest.raises(NotFound, match="run '0123abcd' not found"):
            api.get_logged_model("0123abcd", "model")
        with pytest.raises(NotFound, match="run '0123abcd' not found"):
            api.record_logged_model("0123abcd", "model")
