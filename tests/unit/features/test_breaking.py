"""What an apply breaks: dtype changes, join key changes, and features or views removed under
a feature service that still names them."""

from __future__ import annotations

from gnomon.features.breaking import breaking
from gnomon.features.definitions import Entity, FeatureService, FeatureView, Field, FileSource
from gnomon.features.specs import Catalog

SOURCE = FileSource("/data/stats.parquet")


def _view(
    name: str = "stats", entities: tuple[str, ...] = ("driver",), **dtypes: str
) -> FeatureView:
    schema = tuple(
        Field(n, d) for n, d in (dtypes or {"rate": "float64", "trips": "int64"}).items()
    )
    return FeatureView(name, entities, SOURCE, schema)


def _catalog(*definitions: Entity | FeatureView | FeatureService) -> Catalog:
    catalog = Catalog()
    for d in definitions:
        if isinstance(d, Entity):
            catalog.entities[d.name] = d
        elif isinstance(d, FeatureView):
            catalog.views[d.name] = d
        else:
            catalog.services[d.name] = d
    return catalog


DRIVER = Entity("driver", ("driver_id",))


def test_nothing_breaks_when_features_are_added_or_unused_ones_removed() -> None:
    service = FeatureService("model", ("stats:rate",))
    before = _catalog(DRIVER, _view(rate="float64", trips="int64"), service)
    after = _catalog(DRIVER, _view(rate="float64", speed="float32"), service)
    assert breaking(before, after) == []
    assert breaking(before, before) == []


def test_a_dtype_change_names_the_feature_and_the_services_using_it() -> None:
    before = _catalog(
        DRIVER,
        _view(rate="float64"),
        FeatureService("model", ("stats:rate",)),
        FeatureService("all", ("stats",)),
        FeatureService("other", ("stats",)),
    )
    after = _catalog(
        DRIVER,
        _view(rate="int64"),
        FeatureService("model", ("stats:rate",)),
        FeatureService("all", ("stats",)),
    )
    assert breaking(before, after) == [
        "feature 'stats:rate' changes dtype from float64 to int64 "
        "(used by feature services 'all', 'model')"
    ]


def test_a_dtype_change_breaks_even_when_no_service_uses_it() -> None:
    before = _catalog(DRIVER, _view(rate="float64"))
    after = _catalog(DRIVER, _view(rate="string"))
    assert breaking(before, after) == ["feature 'stats:rate' changes dtype from float64 to string"]


def test_removing_a_feature_or_view_a_service_uses() -> None:
    services = (
        FeatureService("model", ("stats:trips", "stats:rate")),
        FeatureService("all", ("stats",)),
        FeatureService("speedy", ("speed",)),
    )
    before = _catalog(
        DRIVER, _view(rate="float64", trips="int64"), _view("speed", v="float64"), *services
    )
    after = _catalog(DRIVER, _view(rate="float64"), *services)
    assert breaking(before, after) == [
        "feature service 'all' uses all of feature view 'stats', which loses the features "
        "['trips']",
        "feature service 'model' uses feature 'stats:trips', which feature view 'stats' no "
        "longer has",
        "feature service 'speedy' uses feature view 'speed', which is removed",
    ]


def test_a_service_changed_with_the_view_does_not_break() -> None:
    before = _catalog(
        DRIVER, _view(rate="float64", trips="int64"), FeatureService("m", ("stats:trips",))
    )
    after = _catalog(DRIVER, _view(rate="float64"), FeatureService("m", ("stats:rate",)))
    assert breaking(before, after) == []


def test_join_keys_of_an_entity_or_a_view_change() -> None:
    rider = Entity("rider", ("rider_id",))
    before = _catalog(DRIVER, rider, _view(), _view("rides", ("rider",)))
    after = _catalog(
        Entity("driver", ("driver_id", "region")),
        rider,
        _view(),
        _view("rides", ("rider", "driver")),
    )
    assert breaking(before, after) == [
        "entity 'driver' changes its join keys from ['driver_id'] to ['driver_id', 'region'] "
        "(used by feature views 'rides', 'stats')",
        "feature view 'rides' changes its join keys from ['rider_id'] to "
        "['rider_id', 'driver_id', 'region']",
    ]


def test_an_unknown_entity_is_left_to_validation() -> None:
    before = _catalog(DRIVER, _view())
    after = _catalog(DRIVER, _view(entities=("driver", "nobody")))
    assert breaking(before, after) == []
