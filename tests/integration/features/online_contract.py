"""The OnlineStore contract, one suite for SQLite and Redis; each subclass supplies ``store``.

Also the Redis fixtures both test files use: the machine's server at 127.0.0.1:6379, a key
prefix of the test's own, and its keys removed afterwards.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gnomon.errors import InvalidInput, NotFound
from gnomon.features.definitions import FeatureView, Field, FileSource
from gnomon.features.online import OnlineStore, OnlineView, Row, pack_rows
from gnomon.features.online_redis import RedisOnlineStore
from tests.fixtures.services import missing_service

REDIS_URL = "redis://127.0.0.1:6379/0"
WS = "ws-1"
FEATURES = (Field("a"), Field("b", "int64"), Field("c", "string"))


def online_view(
    name: str = "drivers", fields: tuple[Field, ...] = FEATURES, keys: tuple[str, ...] = ("id",)
) -> OnlineView:
    view = FeatureView(name, ("driver",), FileSource("unused.parquet"), fields)
    return OnlineView.of(view, keys)


VIEW = online_view()


def values(n: int) -> list[Any]:
    return [n * 0.5, n, f"v{n}"]


def as_dict(n: int) -> dict[str, Any]:
    return dict(zip(["a", "b", "c"], values(n), strict=True))


def put(store: OnlineStore, view: OnlineView, rows: Iterable[Row]) -> int:
    """``rows`` written as the stores take them (``pack_rows``)."""
    return store.write(WS, view, pack_rows(view, rows))


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the machine's Redis; its keys deleted afterwards."""
    try:
        import redis
    except ImportError as exc:
        missing_service("the redis package (pip install 'gnomon[redis]')", exc)
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        missing_service("Redis at 127.0.0.1:6379", exc)
    prefix = f"gnomon-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    doomed = list(client.scan_iter(match=f"{prefix}*", count=10_000))
    if doomed:
        client.delete(*doomed)
    client.close()


@pytest.fixture
def redis_store(redis_prefix: str) -> Iterator[RedisOnlineStore]:
    store = RedisOnlineStore(REDIS_URL, prefix=redis_prefix)
    yield store
    store.close()


class OnlineStoreContract:
    __test__ = False

    @pytest.fixture
    def store(self) -> OnlineStore:
        raise NotImplementedError("each subclass supplies the store")

    def test_conforms_to_the_protocol(self, store: OnlineStore) -> None:
        assert isinstance(store, OnlineStore)

    def test_round_trip_in_the_order_asked(self, store: OnlineStore) -> None:
        assert put(store, VIEW, [((n,), 1_000 + n, None, values(n)) for n in range(5)]) == 5
        read = store.read(WS, VIEW, [(3,), (99,), (0,), (3,)])
        assert read.values == [as_dict(3), None, as_dict(0), as_dict(3)]
        assert read.event_ms == [1_003, None, 1_000, 1_003]
        assert read.stale == 0
        assert store.read(WS, VIEW, []).values == []

    def test_features_asked_in_their_order(self, store: OnlineStore) -> None:
        put(store, VIEW, [((1,), 10, None, values(1))])
        read = store.read(WS, VIEW, [(1,)], features=["c", "a"])
        assert read.values == [{"c": "v1", "a": 0.5}]
        assert list(read.values[0] or {}) == ["c", "a"]

    def test_unknown_feature_is_not_found(self, store: OnlineStore) -> None:
        with pytest.raises(NotFound, match=r"'nope'.*'drivers'"):
            store.read(WS, VIEW, [(1,)], features=["a", "nope"])

    def test_an_older_row_never_replaces_a_newer_one(self, store: OnlineStore) -> None:
        put(store, VIEW, [((1,), 200, 5, values(1))])
        put(store, VIEW, [((1,), 100, 9, values(2))])  # older event, later created
        put(store, VIEW, [((1,), 200, 4, values(3))])  # same event, created earlier
        put(store, VIEW, [((1,), 200, None, values(4))])  # no created time: the oldest
        assert store.read(WS, VIEW, [(1,)]).values == [as_dict(1)]
        put(store, VIEW, [((1,), 200, 6, values(5))])  # same event, created later
        assert store.read(WS, VIEW, [(1,)]).values == [as_dict(5)]
        put(store, VIEW, [((1,), 200, 6, values(6))])  # a tie: the later write wins
        assert store.read(WS, VIEW, [(1,)]).values == [as_dict(6)]
        put(store, VIEW, [((1,), 201, None, values(7))])
        assert store.read(WS, VIEW, [(1,)]).values == [as_dict(7)]
        put(store, VIEW, [((2,), -10, None, values(8))])  # before 1970
        put(store, VIEW, [((2,), -20, 1, values(9))])
        assert store.read(WS, VIEW, [(2,)]).values == [as_dict(8)]

    def test_newest_wins_within_one_write(self, store: OnlineStore) -> None:
        rows = [((1,), 300, None, values(1)), ((1,), 100, None, values(2))]
        rows += [((2,), 100, None, values(3)), ((2,), 300, None, values(4))]
        put(store, VIEW, rows)
        assert store.read(WS, VIEW, [(1,), (2,)]).values == [as_dict(1), as_dict(4)]

    def test_ttl_expires_on_read_and_counts_stale(self, store: OnlineStore) -> None:
        put(store, VIEW, [((n,), 1_000 * n, None, values(n)) for n in range(1, 5)])
        # now 5,000, ttl 2,000: events before 3,000 are stale; 3,000 itself is just in time
        read = store.read(WS, VIEW, [(1,), (2,), (3,), (4,), (9,)], ttl_ms=2_000, now_ms=5_000)
        assert read.values == [None, None, as_dict(3), as_dict(4), None]
        assert read.event_ms == [None, None, 3_000, 4_000, None]
        assert read.stale == 2  # the missing key is not stale
        assert store.read(WS, VIEW, [(1,)]).values == [as_dict(1)]  # no TTL: kept

    def test_watermark_and_freshness(self, store: OnlineStore) -> None:
        assert store.watermark(WS, VIEW) is None
        assert store.freshness(WS, VIEW) is None
        store.set_watermark(WS, VIEW, 1_234)
        store.set_watermark(WS, VIEW, 1_000)  # a full run over an earlier window moves it back
        assert store.watermark(WS, VIEW) == 1_000
        put(store, VIEW, [((1,), 500, None, values(1)), ((2,), 700, None, values(2))])
        put(store, VIEW, [((1,), 300, None, values(3))])
        assert store.freshness(WS, VIEW) == 700
        assert store.watermark(WS, VIEW) == 1_000

    def test_stale_counts_add_up_per_view_and_go_with_it(self, store: OnlineStore) -> None:
        other = online_view("riders")
        assert store.stale_total(WS, VIEW) == 0
        store.count_stale(WS, VIEW, 2)
        store.count_stale(WS, VIEW, 3)
        store.count_stale(WS, VIEW, 0)
        store.count_stale(WS, other, 1)
        assert (store.stale_total(WS, VIEW), store.stale_total(WS, other)) == (5, 1)
        assert store.stale_total("ws-2", VIEW) == 0
        store.delete(WS, "drivers")
        assert (store.stale_total(WS, VIEW), store.stale_total(WS, other)) == (0, 1)

    def test_namespaces_keep_workspaces_views_and_schemas_apart(self, store: OnlineStore) -> None:
        put(store, VIEW, [((1,), 10, None, values(1))])
        store.set_watermark(WS, VIEW, 10)
        other_view = online_view("riders")
        changed = online_view(fields=(Field("a"), Field("b", "int64"), Field("d", "string")))
        retyped = online_view(fields=(Field("a"), Field("b", "float64"), Field("c", "string")))
        for workspace, view in [("ws-2", VIEW), (WS, other_view), (WS, changed), (WS, retyped)]:
            assert store.read(workspace, view, [(1,)]).values == [None]
            assert store.watermark(workspace, view) is None
            assert store.freshness(workspace, view) is None
        assert store.read(WS, VIEW, [(1,)]).values == [as_dict(1)]

    def test_delete_forgets_a_view_under_every_schema(self, store: OnlineStore) -> None:
        changed = online_view(fields=(Field("z"),))
        kept = online_view("drivers2")  # a name that starts like the deleted one
        for view, row in [(VIEW, values(1)), (changed, [1.5]), (kept, values(2))]:
            put(store, view, [((1,), 10, None, row)])
            store.set_watermark(WS, view, 10)
        store.delete(WS, "drivers")
        for view in (VIEW, changed):
            assert store.read(WS, view, [(1,)]).values == [None]
            assert store.watermark(WS, view) is None
            assert store.freshness(WS, view) is None
        assert store.read(WS, kept, [(1,)]).values == [as_dict(2)]
        assert store.watermark(WS, kept) == 10

    def test_composite_and_string_keys(self, store: OnlineStore) -> None:
        view = online_view(keys=("city", "id"))
        put(store, view, [(("paris", 1), 10, None, values(1))])
        put(store, view, [(("paris", 2), 10, None, values(2))])
        read = store.read(WS, view, [("paris", 2), ("paris", 1), ("lyon", 1)])
        assert read.values == [as_dict(2), as_dict(1), None]

    def test_numpy_integers_are_the_same_key(self, store: OnlineStore) -> None:
        put(store, VIEW, [((np.int64(7),), 10, None, values(7))])
        assert store.read(WS, VIEW, [(7,)]).values == [as_dict(7)]
        assert store.read(WS, VIEW, [(np.int32(7),)]).values == [as_dict(7)]
        assert store.read(WS, VIEW, [("7",)]).values == [None]  # a string is another key

    @pytest.mark.parametrize(
        "keys",
        [[1], [[1]], [(1, 2)], [()], [(1.5,)], [(None,)], [(True,)], "abc", {(1,): 1}],
        ids=["int", "list", "too-long", "empty", "float", "none", "bool", "str", "dict"],
    )
    def test_bad_keys_are_invalid_input(self, store: OnlineStore, keys: Any) -> None:
        with pytest.raises(InvalidInput, match="key"):
            store.read(WS, VIEW, keys)

    def test_bad_keys_to_write_are_invalid_input(self, store: OnlineStore) -> None:
        with pytest.raises(InvalidInput, match="tuple of 1"):
            put(store, VIEW, [((1,), 10, None, values(1)), ((1, 2), 10, None, values(2))])
        assert store.read(WS, VIEW, [(1,)]).values == [None]  # nothing of the batch written

    def test_bad_workspace_id_is_invalid_input(self, store: OnlineStore) -> None:
        with pytest.raises(InvalidInput, match="workspace"):
            store.read("a:b", VIEW, [(1,)])

    def test_value_types_round_trip(self, store: OnlineStore) -> None:
        fields = (Field("f"), Field("i", "int64"), Field("s", "string"), Field("ok", "bool"))
        view = online_view(fields=(*fields, Field("t", "timestamp"), Field("n")))
        when = datetime(2024, 5, 1, 12, 30, 15, 250_000)
        put(store, view, [((1,), 10, None, [1e-300, -(2**62), "é\x00'", True, when, None])])
        put(store, view, [((2,), 10, None, [math.nan, 0, "", False, None, 2.5])])
        first, second = store.read(WS, view, [(1,), (2,)]).values
        assert first == {
            "f": 1e-300,
            "i": -(2**62),
            "s": "é\x00'",
            "ok": True,
            "t": when,
            "n": None,
        }
        assert second == {"f": None, "i": 0, "s": "", "ok": False, "t": None, "n": 2.5}  # NaN: null
        stamp = pd.Timestamp("2024-05-01 12:30", tz="UTC")  # pandas' own, as pushes carry
        put(store, view, [((3,), 10, None, [np.float64(1.5), np.int64(2), "", True, stamp, None])])
        put(store, view, [((4,), 10, None, [1.0, 1, "", True, pd.NaT, None])])
        third, fourth = store.read(WS, view, [(3,), (4,)]).values
        assert third is not None and (third["f"], third["i"]) == (1.5, 2)
        assert third["t"] == stamp.to_pydatetime()
        assert fourth is not None and fourth["t"] is None
        with pytest.raises(InvalidInput, match="cannot be stored online"):
            put(store, view, [((5,), 10, None, [object(), 1, "", True, None, None])])

    def test_many_entities_cross_every_chunk(self, store: OnlineStore) -> None:
        count = 25_000
        rows = ((("e", n), n, n, [n * 1.0, n, str(n)]) for n in range(count))
        view = online_view(keys=("kind", "id"))
        assert put(store, view, rows) == count
        read = store.read(WS, view, [("e", n) for n in range(count - 1, -1, -1)])
        assert [v and v["b"] for v in read.values] == list(range(count - 1, -1, -1))
        assert store.freshness(WS, view) == count - 1
