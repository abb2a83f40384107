"""The feature registry on a real metadata database: versioned applies, validation of the
whole set before anything is written, breaking changes refused unless forced, workspaces."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gnomon._types import Scope
from gnomon.errors import Conflict, InvalidInput, NotFound
from gnomon.features import plan
from gnomon.features.definitions import (
    DatasetSource,
    Entity,
    FeatureService,
    FeatureView,
    Field,
    FileSource,
)
from gnomon.features.plan import plan_apply
from gnomon.features.service import FeatureRegistry
from gnomon.features.sql import SqlFeatureStore
from gnomon.store.database import Database
from tests.fixtures.databases import fresh_workspace

DRIVER = Entity("driver", ("driver_id",))


@pytest.fixture
def registry(sqlite_db: Database, tmp_path: Path) -> FeatureRegistry:
    return FeatureRegistry(SqlFeatureStore(sqlite_db), None, tmp_path / "cache")


@pytest.fixture
def stats(tmp_path: Path) -> Path:
    """A source with a driver id, two features and the event time."""
    path = tmp_path / "stats.parquet"
    table = pa.table(
        {
            "driver_id": pa.array([1, 2], pa.int64()),
            "rate": pa.array([0.5, 0.7]),
            "trips": pa.array([3, 4], pa.int64()),
            "event_timestamp": pa.array([1_700_000_000_000, 1_700_000_100_000], pa.timestamp("ms")),
        }
    )
    pq.write_table(table, path)
    return path


def _view(source: Path, description: str = "", rate: str = "float64", **extra: str) -> FeatureView:
    schema = (
        Field("rate", rate),
        Field("trips", "int64"),
        *(Field(n, d) for n, d in extra.items()),
    )
    return FeatureView(
        "stats", ("driver",), FileSource(str(source)), schema, description=description
    )


def _repo(source: Path, **view: str) -> list[object]:
    return [DRIVER, _view(source, **view), FeatureService("model", ("stats:rate", "stats:trips"))]


def _actions(plan: object) -> dict[str, tuple[str, int | None]]:
    return {c.name: (c.action, c.version) for c in plan.changes}  # type: ignore[attr-defined]


def test_apply_creates_versions_and_an_unchanged_apply_is_a_no_op(
    registry: FeatureRegistry, stats: Path
) -> None:
    scope = Scope()
    first = registry.apply(scope, _repo(stats))
    assert first.applied and _actions(first) == {
        "driver": ("created", 1),
        "stats": ("created", 1),
        "model": ("created", 1),
    }
    listed = registry.list(scope)
    assert [(d.kind, d.name, d.version) for d in listed] == [
        ("entity", "driver", 1),
        ("service", "model", 1),
        ("view", "stats", 1),
    ]
    again = registry.apply(scope, _repo(stats))
    assert not again.changed and set(_actions(again).values()) == {("unchanged", 1)}
    assert registry.list(scope) == listed  # not even the update time moved
    changed = registry.apply(scope, _repo(stats, description="per driver"))
    assert _actions(changed)["stats"] == ("updated", 2)
    assert changed.changes[1].details == ("description: '' -> 'per driver'",)
    versions = registry.versions(scope, "view", "stats")
    assert [v.version for v in versions] == [2, 1]
    assert versions[0].spec["description"] == "per driver"
    catalog = registry.catalog(scope)
    assert catalog.resolve(service="model") == {"stats": ["rate", "trips"]}


def test_a_dtype_change_a_service_uses_is_refused_unless_forced(
    registry: FeatureRegistry, stats: Path
) -> None:
    scope = Scope()
    registry.apply(scope, _repo(stats))
    with pytest.raises(Conflict) as refused:
        registry.apply(scope, _repo(stats, rate="float32"))
    assert refused.value.details["breaking"] == [
        "feature 'stats:rate' changes dtype from float64 to float32 "
        "(used by feature services 'model')"
    ]
    assert "force" in refused.value.message
    assert registry.get(scope, "view", "stats").version == 1  # nothing written
    diff = registry.diff(scope, _repo(stats, rate="float32"))
    assert not diff.applied and diff.breaking == tuple(refused.value.details["breaking"])
    forced = registry.apply(scope, _repo(stats, rate="float32"), force=True)
    assert forced.applied and forced.breaking == diff.breaking
    assert registry.get(scope, "view", "stats").spec["schema"][0] == {
        "name": "rate",
        "dtype": "float32",
    }


def test_a_source_lacking_a_declared_column_is_refused_naming_it(
    registry: FeatureRegistry, stats: Path
) -> None:
    scope = Scope()
    with pytest.raises(InvalidInput, match=r"lacks the columns \['speed'\]"):
        registry.apply(scope, _repo(stats, speed="float64"))
    with pytest.raises(InvalidInput, match="mistyped columns: rate is DOUBLE, declared string"):
        registry.apply(scope, _repo(stats, rate="string"))
    with pytest.raises(InvalidInput, match=r"source file .*missing\.parquet not found"):
        registry.apply(scope, _repo(stats.parent / "missing.parquet"))
    assert registry.list(scope) == []  # the entity and the service were not written either


def test_an_entity_change_rechecks_the_views_using_it(
    registry: FeatureRegistry, stats: Path
) -> None:
    scope = Scope()
    registry.apply(scope, _repo(stats))
    moved = Entity("driver", ("driver_id", "region"))
    with pytest.raises(InvalidInput, match=r"lacks the columns \['region'\]"):
        registry.apply(scope, [moved], force=True)


def test_references_must_resolve_in_the_set_or_among_applied_ones(
    registry: FeatureRegistry, stats: Path
) -> None:
    scope = Scope()
    with pytest.raises(InvalidInput) as bad:
        registry.apply(
            scope, [_view(stats), FeatureService("model", ("stats:rate", "stats:speed"))]
        )
    assert bad.value.details["problems"] == [
        "feature view 'stats' names the unknown entity 'driver'",
        "feature service 'model': feature 'speed' not found in feature view 'stats'",
    ]
    registry.apply(scope, [DRIVER])
    with pytest.raises(InvalidInput, match="feature 'speed' not found in feature view 'stats'"):
        registry.apply(
            scope, [_view(stats), FeatureService("model", ("stats:rate", "stats:speed"))]
        )
    plan = registry.apply(scope, [_view(stats)])  # the entity applied earlier counts
    assert _actions(plan) == {"stats": ("created", 1)}


def test_names_defined_twice_and_specs_too_large_are_refused(
    registry: FeatureRegistry, stats: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scope = Scope()
    with pytest.raises(InvalidInput, match="entity 'driver' is defined twice, differently"):
        registry.apply(scope, [DRIVER, Entity("driver", ("other_id",))])
    with pytest.raises(InvalidInput, match="a description is text of 0 to 10,000 characters"):
        Entity("huge", ("id",), description="x" * 300_000)
    monkeypatch.setattr(plan, "MAX_SPEC_BYTES", 1000)
    with pytest.raises(InvalidInput, match="at most 1,000 are stored"):
        registry.apply(scope, [Entity("huge", ("id",), description="x" * 2000)])
    with pytest.raises(InvalidInput, match="kind must be one of entity, view, service"):
        registry.get(scope, "table", "driver")
    with pytest.raises(NotFound):
        registry.find(scope, "x" * 10_000)


def test_another_workspace_sees_nothing(
    registry: FeatureRegistry, sqlite_db: Database, stats: Path
) -> None:
    registry.apply(Scope(), _repo(stats))
    other = fresh_workspace(sqlite_db)
    assert registry.list(other) == []
    with pytest.raises(NotFound, match="feature view 'stats' not found"):
        registry.get(other, "view", "stats")
    with pytest.raises(NotFound):
        registry.versions(other, "view", "stats")
    plan = registry.apply(other, _repo(stats))  # its own version 1
    assert set(_actions(plan).values()) == {("created", 1)}


def test_prune_removes_what_the_set_leaves_out_and_keeps_its_versions(
    registry: FeatureRegistry, stats: Path
) -> None:
    scope = Scope()
    registry.apply(scope, _repo(stats))
    only_service = registry.apply(scope, [DRIVER, _view(stats)], prune=True)  # nothing breaks
    assert _actions(only_service)["model"] == ("removed", None)
    registry.apply(scope, _repo(stats))
    with pytest.raises(InvalidInput, match="feature service 'model': feature view 'stats' not"):
        registry.apply(scope, [FeatureService("model", ("stats:rate",))], prune=True)
    pruned = registry.apply(scope, [DRIVER], prune=True)
    assert _actions(pruned) == {
        "driver": ("unchanged", 1),
        "stats": ("removed", None),
        "model": ("removed", None),
    }
    assert [d.name for d in registry.list(scope)] == ["driver"]
    assert [v.version for v in registry.versions(scope, "view", "stats")] == [1]
    back = registry.apply(scope, _repo(stats))
    assert _actions(back)["stats"] == ("created", 2)  # numbering goes on


def test_forcing_leaves_a_service_naming_a_removed_feature_which_fails_when_used(
    registry: FeatureRegistry, stats: Path
) -> None:
    scope = Scope()
    registry.apply(scope, _repo(stats))
    smaller = FeatureView("stats", ("driver",), FileSource(str(stats)), (Field("rate"),))
    with pytest.raises(Conflict, match="uses feature 'stats:trips', which feature view"):
        registry.apply(scope, [smaller])
    registry.apply(scope, [smaller], force=True)
    with pytest.raises(NotFound, match="feature 'trips' not found in feature view 'stats'"):
        registry.catalog(scope).resolve(service="model")
    with pytest.raises(InvalidInput, match="feature service 'model': feature 'trips'"):
        registry.apply(scope, [FeatureService("model", ("stats:rate", "stats:trips"))])


def test_an_apply_planned_before_another_one_is_refused(
    registry: FeatureRegistry, stats: Path
) -> None:
    scope = Scope()
    store = registry.store
    planned = plan_apply(store.current(scope), store.last_versions(scope), [DRIVER])
    registry.apply(scope, [Entity("rider", ("rider_id",))])
    with pytest.raises(Conflict, match="changed while this apply ran"):
        store.write(scope, planned.writes)
    assert [d.name for d in registry.list(scope)] == ["rider"]


def test_a_dataset_source_is_checked_against_the_version_files(
    gnomon_home: Path, stats: Path
) -> None:
    import gnomon

    client = gnomon.Client()
    client.datasets.add(stats, "trips")  # type: ignore[attr-defined]
    features = client.feature_registry  # type: ignore[attr-defined]
    source = DatasetSource("trips")
    view = FeatureView("stats", ("driver",), source, (Field("rate"), Field("trips", "int64")))
    assert features.apply([DRIVER, view]).applied
    bad = FeatureView("late", ("driver",), source, (Field("rate"), Field("speed")))
    with pytest.raises(InvalidInput, match=r"feature view 'late' lacks the columns \['speed'\]"):
        features.apply([bad])
    with pytest.raises(InvalidInput, match="dataset 'nope' not found"):
        features.apply([FeatureView("gone", ("driver",), DatasetSource("nope"), (Field("r"),))])


def test_a_dataset_of_upper_case_file_names_is_read(gnomon_home: Path, stats: Path) -> None:
    import gnomon

    folder = stats.parent / "shouty"
    folder.mkdir()
    stats.rename(folder / "STATS.PARQUET")  # the data capability takes any case
    client = gnomon.Client()
    client.datasets.add(folder, "shouty")  # type: ignore[attr-defined]
    view = FeatureView("loud", ("driver",), DatasetSource("shouty"), (Field("rate"),))
    assert client.feature_registry.apply([DRIVER, view]).applied  # type: ignore[attr-defined]
