"""The ``arrow`` plan of training frames (gnomon.features.offline_arrow), which ``auto`` takes
for local Parquet: the same answer as DuckDB's plans and a brute-force loop, over several
files and row groups, read in small batches, with and without its helper thread; and DuckDB
where the plan cannot go."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from gnomon.errors import InvalidInput
from gnomon.features import offline_arrow
from gnomon.features.definitions import Entity, FeatureView, Field, FileSource
from gnomon.features.offline import training_frame
from gnomon.features.specs import Catalog

BASE = datetime(2024, 1, 1, tzinfo=UTC)
TTL = timedelta(minutes=45)
FEATURES = {"f": pa.float64(), "n": pa.int32(), "flag": pa.bool_(), "text": pa.string()}


def at(minutes: float) -> datetime:
    return BASE + timedelta(minutes=minutes)


def source(rng: random.Random, keys: list[tuple[Any, ...]], per_key: int) -> list[dict]:
    """Rows on a 5-minute grid (ties in event time, never in event and created time), some
    without a created time, some null features, one null key and one null time."""
    rows, seen = [], set()
    for key in keys:
        while sum(1 for r in rows if r["key"] == key) < per_key:
            event = at(rng.randrange(0, 400, 5))
            created = None if rng.random() < 0.1 else event + timedelta(minutes=rng.randrange(90))
            if (key, event, created) not in seen:
                seen.add((key, event, created))
                rows.append({"key": key, "ts": event, "created": created})
    for row in rows:
        row["f"] = None if rng.random() < 0.1 else round(rng.uniform(-5, 5), 3)
        row["n"] = rng.choice([None, 1, 2, 3])
        row["flag"] = rng.choice([None, True, False])
        row["text"] = rng.choice([None, "a", "bb", "ccc"])
    rows.append({"key": keys[0], "ts": None, "created": None, "f": 99.0})
    rows.append({"key": (None,) * len(keys[0]), "ts": at(0), "created": None, "f": 98.0})
    rng.shuffle(rows)
    return rows


def brute(frame: list[dict], rows: list[dict], ttl: timedelta | None) -> list[dict]:
    oldest = datetime.min.replace(tzinfo=UTC)
    answer = []
    for asked in frame:
        best = None
        for row in rows:
            if None in row["key"] or row["key"] != asked["key"] or row["ts"] is None:
                continue
            if asked["at"] is None or row["ts"] > asked["at"]:
                continue
            if ttl is not None and row["ts"] < asked["at"] - ttl:
                continue
            rank = (row["ts"], row["created"] or oldest)
            if best is None or rank > best[0]:
                best = (rank, row)
        answer.append({f: best[1].get(f) if best else None for f in FEATURES})
    return answer


def asked_rows(rng: random.Random, rows: list[dict], keys: list, n: int) -> list[dict]:
    """Frame rows: random times, times at a row's event time and at the TTL's edge, unseen
    and null keys, null times, duplicates."""
    frame: list[dict] = []
    for _ in range(n):
        pick = rng.random()
        if pick < 0.2:
            row = rng.choice([r for r in rows if r["ts"] is not None and None not in r["key"]])
            edge = rng.choice([timedelta(0), TTL, TTL + timedelta(microseconds=1)])
            frame.append({"key": row["key"], "at": row["ts"] + edge})
        elif pick < 0.25 and frame:
            frame.append(dict(rng.choice(frame)))
        elif pick < 0.3:
            frame.append({"key": rng.choice(keys), "at": None})
        elif pick < 0.35:
            frame.append({"key": (None,) * len(keys[0]), "at": at(100)})
        else:
            unseen = tuple(-7 if isinstance(k, int) else "zz" for k in keys[0])
            key = unseen if rng.random() < 0.1 else rng.choice(keys)
            frame.append({"key": key, "at": at(rng.uniform(-20, 450))})
    return frame


def write_source(folder: Path, rows: list[dict], key_types: dict[str, pa.DataType]) -> None:
    """Two files of several row groups each, event times in milliseconds."""
    folder.mkdir()
    types = key_types | {"ts": pa.timestamp("ms", tz="UTC"), "created": pa.timestamp("us")}
    types |= FEATURES
    for part, chunk in enumerate((rows[: len(rows) // 3], rows[len(rows) // 3 :])):
        columns: dict[str, list[Any]] = {name: [] for name in types}
        for row in chunk:
            for i, name in enumerate(key_types):
                columns[name].append(row["key"][i])
            for name in ("ts", "f", "n", "flag", "text"):
                columns[name].append(row.get(name))
            created = row["created"]  # naive: UTC
            columns["created"].append(created.replace(tzinfo=None) if created else None)
        table = pa.table({n: pa.array(v, types[n]) for n, v in columns.items()})
        pq.write_table(table, folder / f"part-{part}.parquet", row_group_size=37)


def catalog_of(folder: Path, keys: list[str], ttl: timedelta | None) -> Catalog:
    view = FeatureView(
        "v",
        ("e",),
        FileSource(str(folder)),
        tuple(Field(f) for f in FEATURES),
        timestamp_field="ts",
        created_timestamp_field="created",
        ttl=ttl,
    )
    return Catalog(entities={"e": Entity("e", tuple(keys))}, views={"v": view})


def frame_of(asked: list[dict], key_types: dict[str, pa.DataType]) -> pd.DataFrame:
    """As pandas: nanosecond times with a zone (DuckDB's ``epoch_us`` takes none of those)."""
    columns: dict[str, Any] = {
        name: pa.array([a["key"][i] for a in asked], kind).to_pandas()
        for i, (name, kind) in enumerate(key_types.items())
    }
    times = pd.Series([a["at"] for a in asked], dtype="datetime64[ns, UTC]")
    return pd.DataFrame(columns | {"event_timestamp": times, "label": range(len(asked))})


KEYS = {
    "int": ({"id": pa.int64()}, {"id": pa.int32()}, [(k,) for k in range(25)]),
    "text": ({"id": pa.string()}, {"id": pa.string()}, [(f"c{k}",) for k in range(25)]),
    "two": (
        {"id": pa.int64(), "region": pa.string()},
        {"id": pa.int16(), "region": pa.string()},
        [(k, r) for k in range(8) for r in ("n", "s", "w")],
    ),
}


@pytest.fixture
def arrow_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The views the arrow plan joined, counted as they run."""
    runs: list[int] = []
    run = offline_arrow.ArrowJoin.run

    def counted(self: Any, *args: Any) -> Any:
        runs.append(1)
        return run(self, *args)

    monkeypatch.setattr(offline_arrow.ArrowJoin, "run", counted)
    return runs


@pytest.fixture(params=[False, True], ids=["alone", "helper"])
def small_reads(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 16 rows, row groups over 16 rows read in batches, with or without the
    helper thread: every path of the plan on a small source."""
    monkeypatch.setattr(offline_arrow, "BATCH_ROWS", 16)
    monkeypatch.setattr(offline_arrow, "GROUP_ROWS", 16)
    monkeypatch.setattr(offline_arrow, "HELPER", request.param)


@pytest.mark.usefixtures("small_reads")
@pytest.mark.parametrize("ttl", [TTL, None], ids=["ttl", "no-ttl"])
@pytest.mark.parametrize("kind", sorted(KEYS))
def test_the_arrow_plan_matches_duckdb_and_brute_force(
    tmp_path: Path, arrow_runs: list[int], kind: str, ttl: timedelta | None
) -> None:
    frame_types, source_types, keys = KEYS[kind]
    rng = random.Random(f"{kind}-{ttl}")
    rows = source(rng, keys, 6)
    write_source(tmp_path / "src", rows, source_types)
    catalog = catalog_of(tmp_path / "src", list(frame_types), ttl)
    asked = asked_rows(rng, rows, keys, 250)
    frame = frame_of(asked, frame_types)
    chosen = {"v": list(FEATURES)}
    arrow = training_frame(None, catalog, frame, chosen, output="arrow")
    assert len(arrow_runs) == 1  # auto took the arrow plan
    duck = training_frame(None, catalog, frame, chosen, output="arrow", join="hash")
    assert len(arrow_runs) == 1  # a plan named goes to DuckDB
    assert arrow.equals(duck)
    assert arrow.select(list(FEATURES)).to_pylist() == brute(asked, rows, ttl)
    assert arrow.column("label").to_pylist() == list(range(len(asked)))
    assert arrow.schema.field("n").type == pa.int32()  # as DuckDB hands it back


def test_the_plan_counts_rows_over_every_file_and_row_group(tmp_path: Path) -> None:
    _, source_types, keys = KEYS["int"]
    write_source(tmp_path / "src", source(random.Random(1), keys, 3), source_types)
    catalog = catalog_of(tmp_path / "src", ["id"], TTL)
    files = sorted((tmp_path / "src").glob("*.parquet"))
    frame = pa.table({"id": pa.array([1], pa.int64()), "event_timestamp": [BASE]})
    plan = offline_arrow.ArrowJoin.prepare(catalog.view("v"), files, ["id"], ["f"], frame)
    assert plan is not None
    assert len(plan.files.groups) == sum(pq.ParquetFile(p).metadata.num_row_groups for p in files)
    assert plan.files.starts[-1] == sum(pq.ParquetFile(p).metadata.num_rows for p in files)


def one_row_view(tmp_path: Path, table: pa.Table, name: str = "s.parquet") -> Catalog:
    path = tmp_path / name
    if name.endswith(".csv"):
        pcsv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    view = FeatureView(
        "v", ("e",), FileSource(str(path), name.rsplit(".")[-1]), (Field("f"),), "ts", ttl=TTL
    )
    return Catalog(entities={"e": Entity("e", ("id",))}, views={"v": view})


def test_duckdb_takes_what_the_arrow_plan_cannot(tmp_path: Path, arrow_runs: list[int]) -> None:
    """CSV, a dictionary-encoded feature, a timestamp feature: DuckDB, same answers."""
    frame = pa.table({"id": [1, 2], "event_timestamp": pa.array([at(1), at(1)])})
    csv = pa.table({"id": [1], "ts": pa.array([at(0)]), "f": [2.5]})
    as_csv = one_row_view(tmp_path, csv, "s.csv")
    dictionary = csv.set_column(2, "f", pa.array(["x"]).dictionary_encode())
    as_dictionary = one_row_view(tmp_path, dictionary, "d.parquet")
    stamped = csv.set_column(2, "f", pa.array([at(-5)]))
    as_stamps = one_row_view(tmp_path, stamped, "t.parquet")
    for catalog, want in ((as_csv, 2.5), (as_dictionary, "x"), (as_stamps, at(-5))):
        answer = training_frame(None, catalog, frame, {"v": ["f"]}, output="arrow")
        assert answer.column("f").to_pylist() == [want, None]
    assert arrow_runs == []


def test_keys_that_do_not_compare_are_still_refused(tmp_path: Path) -> None:
    catalog = one_row_view(tmp_path, pa.table({"id": ["one"], "ts": [BASE], "f": [1.0]}))
    frame = pa.table({"id": [1], "event_timestamp": pa.array([BASE])})
    with pytest.raises(InvalidInput, match=r"feature view 'v': the entity frame's keys"):
        training_frame(None, catalog, frame, {"v": ["f"]})


def test_of_rows_equal_in_event_and_created_time_the_one_read_last_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(offline_arrow, "BATCH_ROWS", 1)  # each row its own batch
    rows = {"id": [1, 1, 1], "ts": [at(0)] * 3, "created": [at(1)] * 3, "f": [1.0, 2.0, 3.0]}
    table = pa.table(rows)
    pq.write_table(table, tmp_path / "s.parquet", row_group_size=1)
    view = FeatureView(
        "v", ("e",), FileSource(str(tmp_path / "s.parquet")), (Field("f"),), "ts", "created"
    )
    catalog = Catalog(entities={"e": Entity("e", ("id",))}, views={"v": view})
    frame = pa.table({"id": [1], "event_timestamp": pa.array([at(5)])})
    answer = training_frame(None, catalog, frame, {"v": ["f"]}, output="arrow")
    assert answer.column("f").to_pylist() == [3.0]


def test_frames_with_nothing_to_find_get_nulls(tmp_path: Path) -> None:
    catalog = one_row_view(tmp_path, pa.table({"id": [1], "ts": [BASE], "f": [1.0]}))
    for ids, times in (([], []), ([None, None], [BASE, BASE]), ([1, 5], [None, BASE])):
        frame = pa.table(
            {
                "id": pa.array(ids, pa.int64()),
                "event_timestamp": pa.array(times, pa.timestamp("us")),
            }
        )
        answer = training_frame(None, catalog, frame, {"v": ["f"]}, output="arrow")
        assert answer.column("f").to_pylist() == [None] * len(ids)


def test_a_read_that_fails_fails_the_call_and_leaves_no_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = one_row_view(tmp_path, pa.table({"id": [1], "ts": [BASE], "f": [1.0]}))
    frame = pa.table({"id": [1], "event_timestamp": pa.array([at(1)])})

    def broken(self: Any, columns: list[str]) -> Any:
        yield from ()
        raise OSError("disk gone")

    monkeypatch.setattr(offline_arrow._Files, "batches", broken)
    before = threading.active_count()
    with pytest.raises(OSError, match="disk gone"):
        training_frame(None, catalog, frame, {"v": ["f"]})
    assert threading.active_count() == before


def test_source_times_out_of_range_are_refused_naming_the_column(tmp_path: Path) -> None:
    """Milliseconds past year 292,277 do not fit microseconds: the caller's error, not a
    wrong answer, and the reading thread stops."""
    stamps = pa.array([1, 2**62], pa.timestamp("ms"))
    catalog = one_row_view(tmp_path, pa.table({"id": [1, 1], "ts": stamps, "f": [1.0, 2.0]}))
    frame = pa.table({"id": [1], "event_timestamp": pa.array([at(1)])})
    before = threading.active_count()
    with pytest.raises(InvalidInput, match="column 'ts' of the source of feature view 'v'"):
        training_frame(None, catalog, frame, {"v": ["f"]})
    assert threading.active_count() == before


def test_a_parquet_training_frame_never_loads_duckdb(tmp_path: Path) -> None:
    one_row_view(tmp_path, pa.table({"id": [1], "ts": [BASE], "f": [1.0]}))
    microseconds = int(BASE.timestamp() * 1_000_000)
    script = f"""
import sys
import pyarrow as pa
from gnomon.features.definitions import Entity, FeatureView, Field, FileSource
from gnomon.features.offline import training_frame
from gnomon.features.specs import Catalog
view = FeatureView("v", ("e",), FileSource({str(tmp_path / "s.parquet")!r}), (Field("f"),), "ts")
catalog = Catalog(entities={{"e": Entity("e", ("id",))}}, views={{"v": view}})
at = pa.array([{microseconds}], pa.timestamp("us", tz="UTC"))
frame = pa.table({{"id": [1], "event_timestamp": at}})
answer = training_frame(None, catalog, frame, {{"v": ["f"]}}, output="arrow")
assert answer.column("f").to_pylist() == [1.0], answer
print("duckdb" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
