"""Validation and rules of the registry service, over a real (SQLite) store."""

from __future__ import annotations

import pytest

from gnomon._types import Scope
from gnomon.errors import AlreadyExists, InvalidInput, NotFound
from gnomon.registry.entities import NewVersion, VersionStatus
from gnomon.registry.service import RegistryService, parse_model_uri
from gnomon.registry.sql import SqlRegistryStore
from gnomon.store.database import Database

SCOPE = Scope(principal="ann")


@pytest.fixture
def service(sqlite_db: Database) -> RegistryService:
    return RegistryService(SqlRegistryStore(sqlite_db))


def new(run_id: str = "abc", **kw: object) -> NewVersion:
    return NewVersion(
        source=f"runs:/{run_id}/model",
        storage_uri=f"/tmp/registry/{run_id}",
        created_by="ann",
        **kw,  # type: ignore[arg-type]
    )


# -- names and aliases -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["", " lead", "trail ", "a" * 257, "tab\tname", "a/b", "a@b", None, 3]
)
def test_bad_model_names(service: RegistryService, name: object) -> None:
    with pytest.raises(InvalidInput, match="model name"):
        service.create_model(SCOPE, name)  # type: ignore[arg-type]


def test_good_model_names(service: RegistryService) -> None:
    for name in ("churn", "Churn Model v2", "a" * 256, "ünïcode-ok.1"):
        assert service.create_model(SCOPE, name).name == name


@pytest.mark.parametrize(
    ("alias", "why"),
    [
        ("3", "version number"),
        ("007", "version number"),
        ("v3", "version number"),
        ("V12", "version number"),
        ("latest", "reserved"),
        ("LATEST", "reserved"),
        ("", "non-empty"),
        ("_x", "start with a letter"),
        ("has space", "start with a letter"),
        ("a" * 65, "at most 64"),
        ("dots.no", "start with a letter"),
    ],
)
def test_bad_aliases(service: RegistryService, alias: str, why: str) -> None:
    service.create_version(SCOPE, "churn", new())
    with pytest.raises(InvalidInput, match=why):
        service.set_alias(SCOPE, "churn", alias, 1)


def test_good_aliases(service: RegistryService) -> None:
    service.create_version(SCOPE, "churn", new())
    for alias in ("production", "staging", "champion-2", "v", "v3a", "a_b", "a" * 64):
        assert service.set_alias(SCOPE, "churn", alias, 1).version == 1
    assert service.get_model(SCOPE, "churn").aliases["v3a"] == 1


def test_alias_moves_are_recorded_with_the_principal(service: RegistryService) -> None:
    service.create_version(SCOPE, "churn", new("r1"))
    service.create_version(SCOPE, "churn", new("r2"))
    service.set_alias(SCOPE, "churn", "production", 1)
    service.set_alias(Scope(principal="bob"), "churn", "production", 2)
    service.delete_version(Scope(principal="cy"), "churn", 2)
    events = service.list_alias_events(SCOPE, "churn", "production")
    assert [(e.version, e.previous, e.actor) for e in events] == [
        (1, None, "ann"),
        (2, 1, "bob"),
        (None, 2, "cy"),
    ]


def test_unknown_alias_is_named(service: RegistryService) -> None:
    service.create_version(SCOPE, "churn", new())
    with pytest.raises(NotFound, match="no alias 'production'"):
        service.get_version_by_alias(SCOPE, "churn", "production")
    with pytest.raises(NotFound, match="version 9 of registered model 'churn'"):
        service.set_alias(SCOPE, "churn", "production", 9)


# -- versions ----------------------------------------------------------------------------------


def test_create_version_creates_the_model_and_reads_the_run(service: RegistryService) -> None:
    version = service.create_version(SCOPE, "churn", new("abc", flavor="sklearn"))
    assert (version.version, version.run_id, version.flavor) == (1, "abc", "sklearn")
    assert service.get_model(SCOPE, "churn").latest_version == 1
    with pytest.raises(NotFound, match="model 'other' not found"):
        service.create_version(SCOPE, "other", new(), create_model=False)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (NewVersion(source="", storage_uri="/x", created_by="a"), "source"),
        (NewVersion(source="runs://model", storage_uri="/x", created_by="a"), "names no run"),
        (NewVersion(source="runs:/r1/m", run_id="r2", storage_uri="/x", created_by="a"), "differs"),
        (NewVersion(source="runs:/r1/m", storage_uri="", created_by="a"), "storage_uri"),
        (NewVersion(source="runs:/r1/m", storage_uri="/x", created_by=""), "created_by"),
        (NewVersion(source="runs:/r1/m", storage_uri="/x", created_by="a", flavor="f" * 65), "64"),
        (NewVersion(source="runs:/r1/m", storage_uri="/x", created_by="a", tags={"": "v"}), "tag"),
    ],
)
def test_bad_new_versions(service: RegistryService, spec: NewVersion, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        service.create_version(SCOPE, "churn", spec)
    with pytest.raises(NotFound):  # refused before anything was written
        service.get_model(SCOPE, "churn")


@pytest.mark.parametrize("version", [0, -1, True, "1", 1.0, 2**31])
def test_bad_version_numbers(service: RegistryService, version: object) -> None:
    with pytest.raises(InvalidInput, match="version"):
        service.get_version(SCOPE, "churn", version)  # type: ignore[arg-type]


def test_update_and_search_versions(service: RegistryService) -> None:
    service.create_version(SCOPE, "churn", new("r1"))
    service.create_version(SCOPE, "churn", new("r2"))
    archived = service.update_version(SCOPE, "churn", 1, status="archived", description="old")
    assert (archived.status, archived.description) == (VersionStatus.ARCHIVED, "old")
    ready = service.search_versions(SCOPE, "churn", status="READY")
    assert [mv.version for mv in ready] == [2]
    assert [mv.version for mv in service.search_versions(SCOPE, run_id="r1")] == [1]
    with pytest.raises(InvalidInput, match="unknown version status 'GONE'"):
        service.update_version(SCOPE, "churn", 1, status="GONE")
    with pytest.raises(InvalidInput, match="max_results"):
        service.search_versions(SCOPE, max_results=0)
    # The bound the server's routes hold remote callers to, so both modes refuse the same.
    with pytest.raises(InvalidInput, match="max_results must be an integer from 1 to 1000"):
        service.search_models(SCOPE, max_results=1001)


def test_tags_are_checked(service: RegistryService) -> None:
    service.create_model(SCOPE, "churn", tags={"n": 3})
    assert service.get_model(SCOPE, "churn").tags == {"n": "3"}
    with pytest.raises(InvalidInput, match="tag key"):
        service.set_model_tag(SCOPE, "churn", "bad'key", "v")
    service.create_version(SCOPE, "churn", new())
    service.set_version_tag(SCOPE, "churn", 1, "ok", 1.5)
    assert service.get_version(SCOPE, "churn", 1).tags == {"ok": "1.5"}
    with pytest.raises(InvalidInput, match="at most"):
        service.set_version_tag(SCOPE, "churn", 1, "big", "x" * 8001)


def test_get_or_create_model(service: RegistryService) -> None:
    first = service.get_or_create_model(SCOPE, "churn")
    assert service.get_or_create_model(SCOPE, "churn") == first
    with pytest.raises(AlreadyExists):
        service.create_model(SCOPE, "churn")


def test_search_models(service: RegistryService) -> None:
    service.create_model(SCOPE, "churn", tags={"team": "growth"})
    service.create_model(SCOPE, "fraud")
    assert [m.name for m in service.search_models(SCOPE, "ch%")] == ["churn"]
    assert [m.name for m in service.search_models(SCOPE, tags={"team": "growth"})] == ["churn"]


# -- URIs and resolution -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("models:/churn/3", ("churn", 3)),
        ("models:/churn@production", ("churn", "production")),
        ("models:/churn", ("churn", None)),
        ("models:/churn/latest", ("churn", "latest")),
        ("models:/Churn Model v2/12", ("Churn Model v2", 12)),
    ],
)
def test_parse_model_uri(uri: str, expected: tuple[str, object]) -> None:
    assert parse_model_uri(uri) == expected
    assert RegistryService.parse_model_uri(uri) == expected


@pytest.mark.parametrize(
    "uri",
    [
        "runs:/abc/model",
        "models:/",
        "models:/churn/",
        "models:/churn/0",
        "models:/churn/-1",
        "models:/churn/v3",
        "models:/churn/production",
        "models:/churn/3/extra",
        "models:/churn@",
        "models:/churn@3",
        "models:/churn@latest",
        "models:/a/b@alias",
        "models:/@production",
        "models:/churn/\uff13",  # a full-width digit
        "models:churn/1",
        None,
    ],
)
def test_bad_model_uris(uri: object) -> None:
    with pytest.raises(InvalidInput, match="model URI"):
        parse_model_uri(uri)


def test_resolve(service: RegistryService) -> None:
    for run in ("r1", "r2", "r3"):
        service.create_version(SCOPE, "churn", new(run))
    service.update_version(SCOPE, "churn", 3, status="ARCHIVED")
    service.set_alias(SCOPE, "churn", "production", 1)
    assert service.resolve(SCOPE, "churn", None).version == 2  # highest READY
    assert service.resolve(SCOPE, "churn", "latest").version == 2
    assert service.resolve(SCOPE, "churn", 3).version == 3  # a number finds archived ones too
    assert service.resolve(SCOPE, "churn", "3").version == 3
    assert service.resolve(SCOPE, "churn", "production").version == 1
    assert service.resolve_uri(SCOPE, "models:/churn@production").version == 1
    assert service.resolve_uri(SCOPE, "models:/churn/2").version == 2
    assert service.resolve_uri(SCOPE, "models:/churn").version == 2
    with pytest.raises(NotFound, match="version 9 of registered model 'churn'"):
        service.resolve_uri(SCOPE, "models:/churn/9")
    with pytest.raises(NotFound, match="no alias 'staging'"):
        service.resolve(SCOPE, "churn", "staging")
    with pytest.raises(NotFound, match="model 'ghost' not found"):
        service.resolve(SCOPE, "ghost")
    with pytest.raises(InvalidInput, match="version number"):
        service.resolve(SCOPE, "churn", "v2")


def test_an_unknown_model_is_named_in_part(service: RegistryService) -> None:
    service.create_version(SCOPE, "churn", new())
    for call in (service.get_model, service.resolve):
        with pytest.raises(NotFound, match=r"^registered model '\\u6a21\\u6a21") as caught:
            call(SCOPE, "\u6a21" * 10_000)
        assert len(caught.value.message) < 200


def test_an_unknown_model_suggests_the_closest_name(service: RegistryService) -> None:
    service.create_version(SCOPE, "churn", new())
    meant = r"registered model 'chrun' not found; did you mean 'churn'\?$"
    with pytest.raises(NotFound, match=meant):
        service.get_model(SCOPE, "chrun")
    with pytest.raises(NotFound, match=meant):
        service.resolve_uri(SCOPE, "models:/chrun@production")
    with pytest.raises(NotFound, match=meant):
        service.resolve(SCOPE, "chrun")
    # The model exists: the missing version is the error, with nothing to suggest.
    with pytest.raises(NotFound, match=r"^version 7 of registered model 'churn' not found$"):
        service.resolve(SCOPE, "churn", 7)


def test_resolve_latest_without_a_ready_version(service: RegistryService) -> None:
    service.create_version(SCOPE, "churn", new())
    service.update_version(SCOPE, "churn", 1, status="ARCHIVED")
    with pytest.raises(NotFound, match="'churn' has no READY version"):
        service.resolve(SCOPE, "churn")


def test_delete_model(service: RegistryService) -> None:
    service.create_version(SCOPE, "churn", new())
    service.delete_version(SCOPE, "churn", 1)
    service.delete_model(SCOPE, "churn")
    with pytest.raises(NotFound):
        service.get_model(SCOPE, "churn")
