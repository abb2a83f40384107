"""Materialisation against a brute-force reference: the online value of every entity is its
latest source row (by event time, then created time), on SQLite and on Redis; incremental
runs over new files equal a full run; windows, TTL on read, pushed rows and bad sources."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gnomon.errors import InvalidInput, NotFound
from gnomon.features.definitions import DatasetSource, Entity, FeatureView, Field, FileSource
from gnomon.features.materialize import as_ms, materialize
from gnomon.features.online import OnlineStore, OnlineView
from gnomon.features.online_sqlite import SqliteOnlineStore
from gnomon.features.specs import Catalog
from tests.integration.features.online_contract import (
    redis_prefix,  # noqa: F401 - a fixture redis_store uses
    redis_store,  # noqa: F401 - a fixture
)

WS = "default"
FEATURES = (Field("speed"), Field("trips", "int64"), Field("label", "string"))
NAMES = [f.name for f in FEATURES]
ENTITIES = 300  # ids 0..299; ids past 240 are never in the source
DAY_MS = 86_400_000
START = pd.Timestamp("2024-06-01")


def source_rows(seed: int, rows: int = 1_500) -> pd.DataFrame:
    """Rows with ties on event time (broken by created time), late rows (an old event time
    written long after), nulls among the features; created times unique, so the latest row
    of an entity is always one row."""
    rng = np.random.default_rng(seed)
    event = START + pd.to_timedelta(rng.integers(0, 30 * DAY_MS, rows) // 60_000 * 60_000, "ms")
    tied = rng.random(rows) < 0.2  # a fifth share their event time with the row before
    event = pd.Series(event).where(~tied, pd.Series(event).shift(1).fillna(event[0]))
    late = rng.random(rows) < 0.1
    delay = np.where(late, rng.integers(5, 20, rows) * DAY_MS, rng.integers(0, 3_600_000, rows))
    created = event + pd.to_timedelta(delay, "ms") + pd.to_timedelta(rng.permutation(rows), "us")
    frame = pd.DataFrame(
        {
            "driver_id": rng.integers(0, 240, rows),
            "speed": rng.normal(50, 10, rows),
            "trips": rng.integers(0, 1_000, rows),
            "label": [f"l{n}" for n in rng.integers(0, 50, rows)],
            "event_timestamp": event.to_numpy(),
            "created": created.to_numpy(),
            "unused": 1,
        }
    )
    frame.loc[rng.random(rows) < 0.05, "speed"] = None
    frame.loc[rng.random(rows) < 0.05, "label"] = None
    return frame


def latest(frame: pd.DataFrame, created: bool = True) -> dict[int, dict[str, Any]]:
    """The brute-force reference: per entity, its row with the greatest (event, created)."""
    order = ["event_timestamp", "created"] if created else ["event_timestamp"]
    best = frame.sort_values(order, kind="stable").groupby("driver_id").tail(1)
    out = {}
    for row in best.itertuples(index=False):
        speed = None if pd.isna(row.speed) else row.speed
        label = None if pd.isna(row.label) else row.label
        out[int(row.driver_id)] = {"speed": speed, "trips": int(row.trips), "label": label}
    return out


def catalog_for(path: Path, created: bool = True, **kw: Any) -> Catalog:
    view = FeatureView(
        "drivers",
        ("driver",),
        kw.pop("source", FileSource(str(path))),
        FEATURES,
        created_timestamp_field="created" if created else None,
        **kw,
    )
    return Catalog({"driver": Entity("driver", ("driver_id",))}, {"drivers": view})


def online(catalog: Catalog) -> OnlineView:
    view = catalog.view("drivers")
    return OnlineView.of(view, catalog.join_keys(view))


def stored(store: OnlineStore, catalog: Catalog, **kw: Any) -> dict[int, dict[str, Any]]:
    read = store.read(WS, online(catalog), [(n,) for n in range(ENTITIES)], **kw)
    return {n: v for n, v in enumerate(read.values) if v is not None}


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStore]:
    if request.param == "redis":
        yield request.getfixturevalue("redis_store")
        return
    sqlite = SqliteOnlineStore(tmp_path / "online.db")
    yield sqlite
    sqlite.close()


def test_online_values_are_the_latest_row_per_entity(store: OnlineStore, tmp_path: Path) -> None:
    frame = source_rows(1)
    frame.to_parquet(tmp_path / "drivers.parquet")
    catalog = catalog_for(tmp_path / "drivers.parquet")
    done = materialize(catalog, "drivers", store, WS)
    expected = latest(frame)
    assert stored(store, catalog) == expected
    assert done.rows_read == len(frame)
    assert done.entities_written == len(expected)
    assert done.watermark_ms == as_ms(frame["created"].max().to_pydatetime())
    assert store.watermark(WS, online(catalog)) == done.watermark_ms
    assert store.freshness(WS, online(catalog)) == as_ms(frame["event_timestamp"].max())


def test_incremental_runs_equal_a_full_one(store: OnlineStore, tmp_path: Path) -> None:
    frame = source_rows(2)
    cut = frame["created"].quantile(0.6)
    first, second = frame[frame["created"] <= cut], frame[frame["created"] > cut]
    assert second["event_timestamp"].min() < cut  # late rows: old events in the new batch
    folder = tmp_path / "batches"
    folder.mkdir()
    first.to_parquet(folder / "part-1.parquet")
    catalog = catalog_for(folder)
    assert materialize(catalog, "drivers", store, WS, incremental=True).rows_read == len(first)
    second.to_parquet(folder / "part-2.parquet")
    again = materialize(catalog, "drivers", store, WS, incremental=True)
    assert again.rows_read == len(second) + 1  # the row at the watermark is read again
    assert again.watermark_ms == as_ms(frame["created"].max())
    full = SqliteOnlineStore(tmp_path / "full.db")
    materialize(catalog, "drivers", full, WS)
    assert stored(store, catalog) == stored(full, catalog) == latest(frame)
    full.close()
    nothing_new = materialize(catalog, "drivers", store, WS, incremental=True)
    assert (nothing_new.rows_read, nothing_new.watermark_ms) == (1, again.watermark_ms)


def test_without_created_times_the_event_time_decides(tmp_path: Path) -> None:
    frame = source_rows(3).drop_duplicates(["driver_id", "event_timestamp"])
    frame.drop(columns="created").to_parquet(tmp_path / "drivers.parquet")
    catalog = catalog_for(tmp_path / "drivers.parquet", created=False)
    store = SqliteOnlineStore(tmp_path / "online.db")
    done = materialize(catalog, "drivers", store, WS)
    assert stored(store, catalog) == latest(frame, created=False)
    assert done.watermark_ms == as_ms(frame["event_timestamp"].max())
    store.close()


def test_a_window_of_event_times(tmp_path: Path) -> None:
    frame = source_rows(4)
    frame.to_parquet(tmp_path / "drivers.parquet")
    catalog = catalog_for(tmp_path / "drivers.parquet")
    start, end = START + pd.Timedelta(days=5), START + pd.Timedelta(days=12)
    store = SqliteOnlineStore(tmp_path / "online.db")
    done = materialize(catalog, "drivers", store, WS, start=start.to_pydatetime(), end=as_ms(end))
    inside = frame[(frame["event_timestamp"] >= start) & (frame["event_timestamp"] <= end)]
    assert done.rows_read == len(inside)
    assert stored(store, catalog) == latest(inside)
    store.close()


def test_ttl_on_read_after_materialising(tmp_path: Path) -> None:
    frame = source_rows(5)
    frame.to_parquet(tmp_path / "drivers.parquet")
    catalog = catalog_for(tmp_path / "drivers.parquet")
    store = SqliteOnlineStore(tmp_path / "online.db")
    materialize(catalog, "drivers", store, WS, progress=False)
    now, ttl = START + pd.Timedelta(days=30), pd.Timedelta(days=3)
    best = frame.sort_values(["event_timestamp", "created"]).groupby("driver_id").tail(1)
    fresh = best[best["event_timestamp"] >= now - ttl]
    keys = [(n,) for n in range(ENTITIES)]
    read = store.read(WS, online(catalog), keys, ttl_ms=3 * DAY_MS, now_ms=as_ms(now))
    assert sorted(n for n, v in enumerate(read.values) if v is not None) == sorted(
        fresh["driver_id"]
    )
    assert read.stale == len(best) - len(fresh) > 0
    store.close()


def test_pushed_rows_and_dataset_sources(tmp_path: Path) -> None:
    frame = source_rows(6)
    frame.to_parquet(tmp_path / "drivers.parquet")
    pushed = tmp_path / "pushed"
    pushed.mkdir()
    pushed_at = START + pd.Timedelta(days=40)
    newer = frame.head(20).assign(event_timestamp=pushed_at)
    newer["created"] = pushed_at + pd.to_timedelta(range(20), "us")  # one latest per entity
    newer[["driver_id", "speed", "trips", "label", "event_timestamp", "created"]].to_parquet(
        pushed / "push-1.parquet"
    )
    files = {"rides@1": [tmp_path / "drivers.parquet"]}
    catalog = catalog_for(tmp_path, source=DatasetSource("rides@1"))
    store = SqliteOnlineStore(tmp_path / "online.db")
    materialize(catalog, "drivers", store, WS, dataset_files=files.__getitem__, pushed=pushed)
    assert stored(store, catalog) == latest(pd.concat([frame, newer]))
    store.close()


def test_unknown_view_and_bad_sources(tmp_path: Path) -> None:
    frame = source_rows(7)
    store = SqliteOnlineStore(tmp_path / "online.db")
    with pytest.raises(NotFound, match="'nope'"):
        materialize(catalog_for(tmp_path), "nope", store, WS)
    frame.drop(columns=["trips"]).to_parquet(tmp_path / "lacking.parquet")
    with pytest.raises(InvalidInput, match="trips"):
        materialize(catalog_for(tmp_path / "lacking.parquet"), "drivers", store, WS)
    frame.assign(event_timestamp="not a time").to_parquet(tmp_path / "text.parquet")
    with pytest.raises(InvalidInput, match="time"):
        materialize(catalog_for(tmp_path / "text.parquet"), "drivers", store, WS)
    store.close()


def test_every_feature_type_and_composite_text_keys(tmp_path: Path) -> None:
    """The values DuckDB packs read back as written: NaN and infinity as null, float32 as
    its exact value, text with quotes and non-ASCII, times naive and with a zone."""
    when = pd.Timestamp("2024-06-02 10:00:00.123456")
    frame = pd.DataFrame(
        {
            "city": ["paris", "paris", 'ly"on', "köln", "köln"],
            "driver_id": np.array([1, 1, 1, 2**40, 7], dtype=np.int64),
            "f": [1.5, math.inf, math.nan, 1e-300, -0.0],
            "f32": np.array([1.0, 2.5, 3.0, 4.0, 0.1], dtype=np.float32),
            "i": [1, 2, 3, 4, 5],
            "ok": [True, False, True, False, True],
            "s": ["x", "é€𝄞", None, "", 'a"b\\c\n\x01/'],
            "t": [when, when, None, when, when],
            "tz": pd.to_datetime([when] * 5).tz_localize("Europe/Paris"),
            "event_timestamp": [START, START + pd.Timedelta(hours=1), START, START, START],
        }
    )
    frame.to_parquet(tmp_path / "typed.parquet")
    fields = [Field("f"), Field("f32", "float32"), Field("i", "int64"), Field("ok", "bool")]
    fields += [Field("s", "string"), Field("t", "timestamp"), Field("tz", "timestamp")]
    view = FeatureView("typed", ("ride",), FileSource(str(tmp_path / "typed.parquet")), fields)
    catalog = Catalog({"ride": Entity("ride", ("city", "driver_id"))}, {"typed": view})
    store = SqliteOnlineStore(tmp_path / "online.db")
    assert materialize(catalog, "typed", store, WS).entities_written == 4
    keys = [("paris", 1), ('ly"on', 1), ("köln", 2**40), ("köln", 7), ("paris", 2)]
    read = store.read(WS, OnlineView.of(view, ["city", "driver_id"]), keys)
    paris, lyon, big, seven, unseen = read.values
    utc = when.tz_localize("Europe/Paris").tz_convert("UTC").to_pydatetime()
    assert paris == {  # the later of its two rows
        "f": None,
        "f32": 2.5,
        "i": 2,
        "ok": False,
        "s": "é€𝄞",
        "t": when.to_pydatetime(),
        "tz": utc,
    }
    assert lyon is not None and (lyon["f"], lyon["s"], lyon["t"]) == (None, None, None)
    assert big is not None and (big["f"], big["s"]) == (1e-300, "")
    assert seven is not None and seven["f32"] == float(np.float32(0.1))
    assert seven["s"] == 'a"b\\c\n\x01/'
    assert unseen is None
    assert read.event_ms == [as_ms(START + pd.Timedelta(hours=1)), *[as_ms(START)] * 3, None]
    store.close()
