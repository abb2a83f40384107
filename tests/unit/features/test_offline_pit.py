"""Point-in-time training sets (gnomon.features.offline) against a brute-force reference: a
loop over the entity rows that keeps, per row, the source row of its keys with the greatest
(event time, created time) at or before the row's time and within the view's TTL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gnomon.errors import InvalidInput, NotFound
from gnomon.features.definitions import Entity, FeatureView, Field, FileSource
from gnomon.features.offline import Join, offline_connection, training_frame
from gnomon.features.specs import Catalog

BASE = datetime(2024, 1, 1, tzinfo=UTC)
TTL = timedelta(minutes=60)
UTC_US = pa.timestamp("us", tz="UTC")
JOINS = ("hash", "asof", "auto")


def minutes(n: float) -> datetime:
    return BASE + timedelta(minutes=n)


def write(path: Path, rows: list[dict[str, Any]], types: dict[str, pa.DataType]) -> str:
    columns = {name: pa.array([r.get(name) for r in rows], kind) for name, kind in types.items()}
    pq.write_table(pa.table(columns), path)
    return str(path)


def source_rows(rng: random.Random, keys: list[tuple[Any, ...]], per_key: int) -> list[dict]:
    """Rows on a coarse grid of event times (ties), written up to 5 hours late (late
    arrivals), 5% without a created time; (keys, event, created) never repeat."""
    rows: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for key in keys:
        while sum(1 for r in rows if r["key"] == key) < per_key:
            event = minutes(rng.randrange(0, 600, 5))
            created = None if rng.random() < 0.05 else event + timedelta(minutes=rng.randrange(300))
            if (key, event, created) in seen:
                continue
            seen.add((key, event, created))
            rows.append({"key": key, "ts": event, "created": created})
    for row in rows:
        row["f1"] = round(rng.uniform(-10, 10), 3)
        row["label"] = rng.choice([None, "a", "b", "c"])
    rng.shuffle(rows)  # the file's order says nothing
    return rows


def brute_force(
    frame: list[dict[str, Any]],
    source: list[dict[str, Any]],
    key_of: Any,
    features: list[str],
    ttl: timedelta | None,
) -> list[dict[str, Any]]:
    oldest = datetime.min.replace(tzinfo=UTC)
    answer = []
    for row in frame:
        at, best = row["event_timestamp"], None
        for s in source:
            if s["key"] != key_of(row) or at is None or s["ts"] > at:
                continue
            if ttl is not None and s["ts"] < at - ttl:
                continue
            rank = (s["ts"], s["created"] or oldest)
            if best is None or rank > best[0]:
                best = (rank, s)
        answer.append({f: best[1][f] if best else None for f in features})
    return answer


def entity_rows(
    rng: random.Random, source: list[dict[str, Any]], keys: list[tuple[Any, ...]], n: int
) -> list[tuple[Any, datetime]]:
    """(key, time) pairs: mostly random, some exactly at a source row's event time or at its
    TTL's edge, a few before any data, some keys never seen (-1), and duplicated rows."""
    pairs: list[tuple[Any, datetime]] = []
    for _ in range(n):
        pick = rng.random()
        if pick < 0.15:
            s = rng.choice(source)
            edge = rng.choice([timedelta(0), TTL, TTL + timedelta(microseconds=1)])
            pairs.append((s["key"], s["ts"] + edge))
        elif pick < 0.2 and pairs:
            pairs.append(rng.choice(pairs))  # a duplicate row
        else:
            unseen = rng.random() < 0.1
            key = (-1,) if unseen else rng.choice(keys)
            pairs.append((key, minutes(rng.uniform(-30, 700))))
    return pairs


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two views over different entities: ``customer`` (one key) and ``store`` (two keys),
    each with a feature named ``f1``; and an entity frame with many rows per key."""
    rng = random.Random(17)
    folder = tmp_path_factory.mktemp("shop")
    customers = [(c,) for c in range(12)]
    stores = [(s, region) for s in range(4) for region in ("north", "south")]
    cust_rows, store_rows = source_rows(rng, customers, 25), source_rows(rng, stores, 20)
    cust_types = {"customer_id": pa.int64(), "ts": UTC_US, "created": UTC_US}
    cust_types |= {"f1": pa.float64(), "label": pa.string()}
    for r in cust_rows:
        r["customer_id"] = r["key"][0]
    store_types = {"store_id": pa.int32(), "region": pa.string(), "ts": UTC_US}
    store_types |= {"created": UTC_US, "f1": pa.float64()}
    for r in store_rows:
        r["store_id"], r["region"] = r["key"]
    customer = FeatureView(
        "customer_stats",
        ("customer",),
        FileSource(write(folder / "customers.parquet", cust_rows, cust_types)),
        (Field("f1"), Field("label", "string")),
        timestamp_field="ts",
        created_timestamp_field="created",
        ttl=TTL,
    )
    store = FeatureView(
        "store_stats",
        ("store",),
        FileSource(write(folder / "stores.parquet", store_rows, store_types)),
        (Field("f1"),),
        timestamp_field="ts",
        created_timestamp_field="created",
    )
    catalog = Catalog(
        entities={
            "customer": Entity("customer", ("customer_id",)),
            "store": Entity("store", ("store_id", "region")),
        },
        views={"customer_stats": customer, "store_stats": store},
    )
    pairs = entity_rows(rng, cust_rows, customers, 300)
    frame = []
    for index, (key, at) in enumerate(pairs):
        store_id, region = rng.choice([*stores, (9, "west")])
        row = {"customer_id": key[0], "store_id": store_id, "region": region}
        frame.append(row | {"event_timestamp": at, "target": index})
    return {"catalog": catalog, "frame": frame, "customers": cust_rows, "stores": store_rows}


def frame_table(rows: list[dict[str, Any]]) -> pa.Table:
    keys = {"customer_id": pa.int64(), "store_id": pa.int64(), "region": pa.string()}
    types = keys | {"event_timestamp": UTC_US, "target": pa.int64()}
    return pa.table({name: pa.array([r[name] for r in rows], t) for name, t in types.items()})


def expected_shop(shop: dict[str, Any]) -> list[dict[str, Any]]:
    customers = brute_force(
        shop["frame"], shop["customers"], lambda r: (r["customer_id"],), ["f1", "label"], TTL
    )
    stores = brute_force(
        shop["frame"], shop["stores"], lambda r: (r["store_id"], r["region"]), ["f1"], None
    )
    return [
        {"customer_stats__f1": c["f1"], "label": c["label"], "store_stats__f1": s["f1"]}
        for c, s in zip(customers, stores, strict=True)
    ]


@pytest.mark.parametrize("join", JOINS)
def test_two_views_match_the_brute_force_answer(shop: dict[str, Any], join: Join) -> None:
    catalog: Catalog = shop["catalog"]
    chosen = catalog.resolve(["customer_stats", "store_stats:f1"])
    table = frame_table(shop["frame"])
    answer = training_frame(None, catalog, table, chosen, output="arrow", join=join)
    assert answer.column_names == [
        *table.column_names,
        "customer_stats__f1",
        "label",
        "store_stats__f1",
    ]
    # every row once, in order, its own columns untouched (duplicates stay duplicates)
    assert answer.select(table.column_names).equals(table)
    features = answer.select(["customer_stats__f1", "label", "store_stats__f1"]).to_pylist()
    assert features == expected_shop(shop)
    assert sum(1 for r in features if r["customer_stats__f1"] is None) > 20  # TTL, unseen
    assert sum(1 for r in features if r["customer_stats__f1"] is not None) > 100


def test_pandas_keeps_the_index_and_gives_the_same_values(shop: dict[str, Any]) -> None:
    catalog: Catalog = shop["catalog"]
    chosen = catalog.resolve(["customer_stats:f1"])
    frame = frame_table(shop["frame"]).to_pandas()
    frame.index = pd.Index(range(1000, 1000 + len(frame)))
    answer = training_frame(None, catalog, frame, chosen)
    assert isinstance(answer, pd.DataFrame)
    assert list(answer.index) == list(frame.index)
    pd.testing.assert_frame_equal(answer[frame.columns], frame)
    key = lambda r: (r["customer_id"],)  # noqa: E731
    want = brute_force(shop["frame"], shop["customers"], key, ["f1"], TTL)
    assert values(answer, "f1") == [w["f1"] for w in want]


def one_view(tmp_path: Path, rows: list[dict[str, Any]], ttl: timedelta | None = TTL) -> Catalog:
    types = {"id": pa.int64(), "ts": UTC_US, "created": UTC_US, "f1": pa.float64()}
    view = FeatureView(
        "v",
        ("e",),
        FileSource(write(tmp_path / "v.parquet", rows, types)),
        (Field("f1"),),
        timestamp_field="ts",
        created_timestamp_field="created",
        ttl=ttl,
    )
    return Catalog(entities={"e": Entity("e", ("id",))}, views={"v": view})


def ask(catalog: Catalog, asked: list[tuple[int, datetime]], join: Join = "auto") -> list[Any]:
    frame = pa.table(
        {
            "id": pa.array([i for i, _ in asked], pa.int64()),
            "event_timestamp": pa.array([t for _, t in asked], UTC_US),
        }
    )
    answer = training_frame(None, catalog, frame, {"v": ["f1"]}, output="arrow", join=join)
    return answer.column("f1").to_pylist()


@pytest.mark.parametrize("join", JOINS)
def test_ttl_expiry_is_inclusive_at_its_edge(tmp_path: Path, join: Join) -> None:
    catalog = one_view(tmp_path, [{"id": 1, "ts": minutes(0), "created": minutes(0), "f1": 1.0}])
    at_edge, past_edge = minutes(60), minutes(60) + timedelta(microseconds=1)
    asked = [(1, minutes(-1)), (1, minutes(0)), (1, at_edge), (1, past_edge)]
    assert ask(catalog, asked, join) == [None, 1.0, 1.0, None]


@pytest.mark.parametrize("join", JOINS)
def test_ties_on_event_time_go_to_the_row_created_last(tmp_path: Path, join: Join) -> None:
    rows = [
        {"id": 1, "ts": minutes(10), "created": minutes(30), "f1": 2.0},  # written last: wins
        {"id": 1, "ts": minutes(10), "created": minutes(11), "f1": 1.0},
        {"id": 1, "ts": minutes(10), "created": None, "f1": 0.0},  # no created time: loses
        # arrived late (created after the others) but for an earlier event: never wins
        {"id": 1, "ts": minutes(5), "created": minutes(500), "f1": 9.0},
    ]
    catalog = one_view(tmp_path, rows)
    assert ask(catalog, [(1, minutes(7)), (1, minutes(10)), (1, minutes(20))], join) == [
        9.0,
        2.0,
        2.0,
    ]


@pytest.mark.parametrize("join", JOINS)
def test_generated_single_view_matches_brute_force(tmp_path: Path, join: Join) -> None:
    rng = random.Random(5)
    keys = [(k,) for k in range(40)]
    rows = source_rows(rng, keys, 15)
    for r in rows:
        r["id"] = r["key"][0]
    catalog = one_view(tmp_path, rows, ttl=None)
    pairs = entity_rows(rng, rows, keys, 400)
    asked = [(key[0], at) for key, at in pairs]
    frame = [{"event_timestamp": at, "id": i} for i, at in asked]
    want = brute_force(frame, rows, lambda r: (r["id"],), ["f1"], None)
    assert ask(catalog, asked, join) == [w["f1"] for w in want]


def values(answer: pd.DataFrame, column: str) -> list[Any]:
    return [None if pd.isna(v) else v for v in answer[column]]


def test_naive_times_are_utc_in_the_frame_and_in_the_source(tmp_path: Path) -> None:
    rows = [{"id": 1, "ts": datetime(2024, 1, 1, 10), "f1": 1.0}]  # naive: 10:00 UTC
    types = {"id": pa.int64(), "ts": pa.timestamp("us"), "f1": pa.float64()}
    source = FileSource(write(tmp_path / "naive.parquet", rows, types))
    view = FeatureView("v", ("e",), source, (Field("f1"),), timestamp_field="ts", ttl=TTL)
    catalog = Catalog(entities={"e": Entity("e", ("id",))}, views={"v": view})
    # 10:59 and 11:01 UTC written at +01:00, and 09:00 UTC
    times = ["2024-01-01T11:59:00+01:00", "2024-01-01T12:01:00+01:00", "2024-01-01T09:00:00+00:00"]
    frame = pd.DataFrame({"id": [1, 1, 1], "event_timestamp": pd.to_datetime(times, utc=True)})
    aware = training_frame(None, catalog, frame, {"v": ["f1"]})
    assert values(aware, "f1") == [1.0, None, None]
    assert str(aware["event_timestamp"].dt.tz) == "UTC"  # the frame's column untouched
    frame["event_timestamp"] = frame["event_timestamp"].dt.tz_convert(None)  # naive UTC
    assert values(training_frame(None, catalog, frame, {"v": ["f1"]}), "f1") == [1.0, None, None]
    frame["event_timestamp"] = frame["event_timestamp"].astype("datetime64[ns]")
    assert values(training_frame(None, catalog, frame, {"v": ["f1"]}), "f1") == [1.0, None, None]


def frame_of(ids: list[int], times: list[datetime], **extra: list[Any]) -> pa.Table:
    columns = {"id": pa.array(ids, pa.int64()), "event_timestamp": pa.array(times, UTC_US)}
    return pa.table(columns | {name: pa.array(v) for name, v in extra.items()})


def test_a_frame_column_named_as_a_feature_is_kept_and_the_feature_prefixed(
    tmp_path: Path,
) -> None:
    catalog = one_view(tmp_path, [{"id": 1, "ts": minutes(0), "created": None, "f1": 3.0}])
    frame = frame_of([1], [minutes(1)], f1=["mine"])
    answer = training_frame(None, catalog, frame, {"v": ["f1"]}, output="arrow")
    assert answer.to_pylist() == [
        {"id": 1, "event_timestamp": minutes(1), "f1": "mine", "v__f1": 3.0}
    ]


def test_an_empty_frame_gives_an_empty_answer_with_the_feature_columns(tmp_path: Path) -> None:
    catalog = one_view(tmp_path, [{"id": 1, "ts": minutes(0), "created": None, "f1": 3.0}])
    answer = training_frame(None, catalog, frame_of([], []).to_pandas(), {"v": ["f1"]})
    assert list(answer.columns) == ["id", "event_timestamp", "f1"] and len(answer) == 0


@pytest.mark.parametrize("join", ("hash", "asof"))
def test_a_frame_of_unseen_entities_gets_nulls(tmp_path: Path, join: Join) -> None:
    catalog = one_view(tmp_path, [{"id": 1, "ts": minutes(0), "created": None, "f1": 3.0}])
    assert ask(catalog, [(2, minutes(1)), (3, minutes(1))], join) == [None, None]
    frame = frame_of([2], [minutes(1)]).to_pandas()
    answer = training_frame(None, catalog, frame, {"v": ["f1"]}, join=join)
    assert answer["f1"].isna().all() and answer["f1"].dtype == "float64"


def test_rows_pushed_to_the_view_count_as_source_rows(tmp_path: Path) -> None:
    catalog = one_view(tmp_path, [{"id": 1, "ts": minutes(0), "created": None, "f1": 3.0}])
    pushed = tmp_path / "pushed" / "v"
    pushed.mkdir(parents=True)
    types = {"id": pa.int64(), "ts": UTC_US, "created": UTC_US, "f1": pa.float64()}
    write(pushed / "part-1.parquet", [{"id": 1, "ts": minutes(5), "f1": 4.0}], types)
    frame = frame_of([1, 1], [minutes(2), minutes(6)])
    answer = training_frame(
        None, catalog, frame, {"v": ["f1"]}, pushed_root=tmp_path / "pushed", output="arrow"
    )
    assert answer.column("f1").to_pylist() == [3.0, 4.0]


def test_a_join_past_the_memory_limit_spills_to_disk_and_stays_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n, ids, times = 500_000, rng.integers(0, 50_000, 500_000), rng.integers(0, 10**12, 500_000)
    table = pa.table({"id": ids, "ts": pa.array(times, UTC_US), "f1": np.arange(n, dtype=float)})
    pq.write_table(table, tmp_path / "big.parquet")
    view = FeatureView(
        "v", ("e",), FileSource(str(tmp_path / "big.parquet")), (Field("f1"),), timestamp_field="ts"
    )
    catalog = Catalog(entities={"e": Entity("e", ("id",))}, views={"v": view})
    asked_ids, asked_at = rng.integers(0, 50_000, 2_000), rng.integers(0, 10**12, 2_000)
    frame = pa.table({"id": asked_ids, "event_timestamp": pa.array(asked_at, UTC_US)})

    def answer(spill: bool) -> list[Any]:
        # one thread, as a small machine: the ASOF join's sort needs more than 16 MB
        with offline_connection(memory_limit="16MB", spill_dir=tmp_path) as con:
            con.execute("SET threads = 1")
            if not spill:
                con.execute("SET temp_directory = ''")
            found = training_frame(con, catalog, frame, {"v": ["f1"]}, output="arrow", join="asof")
            return found.column("f1").to_pylist()

    with pytest.raises(duckdb.OutOfMemoryException):
        answer(spill=False)
    got = answer(spill=True)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("gnomon-spill")] == []
    order = np.lexsort((times, ids))
    by_id, by_time, values = ids[order], times[order], order.astype(float)  # f1 is the row's index
    want = []
    for entity, at in zip(asked_ids, asked_at, strict=True):
        lo, hi = np.searchsorted(by_id, entity), np.searchsorted(by_id, entity, side="right")
        last = lo + np.searchsorted(by_time[lo:hi], at, side="right") - 1
        want.append(values[last] if last >= lo else None)
    assert got == want


def test_a_frame_without_the_keys_or_the_time_is_refused_naming_them(
    shop: dict[str, Any],
) -> None:
    catalog: Catalog = shop["catalog"]
    chosen = catalog.resolve(["customer_stats:f1", "store_stats:f1"])
    frame = pd.DataFrame({"customer_id": [1], "store_id": [1], "when": [BASE]})
    with pytest.raises(InvalidInput, match=r"lacks the columns \['region', 'event_timestamp'\]"):
        training_frame(None, catalog, frame, chosen)
    frame["region"] = ["north"]
    answer = training_frame(None, catalog, frame, chosen, timestamp_column="when")
    assert len(answer) == 1


def test_unknown_views_and_features_are_not_found(shop: dict[str, Any]) -> None:
    catalog: Catalog = shop["catalog"]
    with pytest.raises(NotFound, match="feature view 'nope'"):
        catalog.resolve(["nope:f1"])
    with pytest.raises(NotFound, match="feature 'nope' not found in feature view 'store_stats'"):
        catalog.resolve(["store_stats:nope"])
    frame = frame_table(shop["frame"])
    with pytest.raises(NotFound, match="feature view 'nope'"):
        training_frame(None, catalog, frame, {"nope": ["f1"]})


def test_a_source_lacking_a_declared_column_is_refused_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path / "s.parquet", [{"id": 1, "ts": BASE}], {"id": pa.int64(), "ts": UTC_US})
    view = FeatureView(
        "v", ("e",), FileSource(path), (Field("f1"), Field("f2")), timestamp_field="ts"
    )
    catalog = Catalog(entities={"e": Entity("e", ("id",))}, views={"v": view})
    with pytest.raises(InvalidInput, match=r"feature view 'v' lacks the columns \['f1', 'f2'\]"):
        training_frame(None, catalog, frame_of([1], [BASE]), {"v": ["f1"]})


def test_times_and_keys_that_do_not_compare_are_refused(tmp_path: Path) -> None:
    catalog = one_view(tmp_path, [{"id": 1, "ts": minutes(0), "created": None, "f1": 3.0}])
    as_text = pa.table({"id": [1], "event_timestamp": ["2024-01-01"]})
    with pytest.raises(
        InvalidInput, match="column 'event_timestamp' of the entity frame must hold timestamps"
    ):
        training_frame(None, catalog, as_text, {"v": ["f1"]})
    text_keys = pa.table({"id": ["one"], "event_timestamp": pa.array([BASE], UTC_US)})
    with pytest.raises(InvalidInput, match=r"feature view 'v': the entity frame's keys \['id'\]"):
        training_frame(None, catalog, text_keys, {"v": ["f1"]})
    path = write(
        tmp_path / "t.parquet",
        [{"id": 1, "ts": "x", "f1": 1.0}],
        {"id": pa.int64(), "ts": pa.string(), "f1": pa.float64()},
    )
    view = FeatureView("w", ("e",), FileSource(path), (Field("f1"),), timestamp_field="ts")
    catalog = Catalog(entities={"e": Entity("e", ("id",))}, views={"w": view})
    with pytest.raises(
        InvalidInput, match="column 'ts' of the source of feature view 'w' must hold timestamps"
    ):
        training_frame(None, catalog, frame_of([1], [BASE]), {"w": ["f1"]})


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    catalog = one_view(tmp_path, [{"id": 1, "ts": minutes(0), "created": None, "f1": 3.0}])
    frame = frame_of([1], [BASE])
    with pytest.raises(InvalidInput, match="output must be 'pandas' or 'arrow'"):
        training_frame(None, catalog, frame, {"v": ["f1"]}, output="csv")
    with pytest.raises(InvalidInput, match="join must be 'auto', 'hash' or 'asof'"):
        training_frame(None, catalog, frame, {"v": ["f1"]}, join="merge")
    with pytest.raises(InvalidInput, match="must be a pandas DataFrame or a pyarrow Table"):
        training_frame(None, catalog, [{"id": 1}], {"v": ["f1"]})
