"""The online store contract on SQLite and on the machine's Redis, and what each adds."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gnomon.errors import InvalidInput, Unavailable
from gnomon.features.online_redis import RedisOnlineStore
from gnomon.features.online_sqlite import SqliteOnlineStore, default_path
from tests.fixtures.processes import free_port
from tests.integration.features.online_contract import (
    REDIS_URL,
    VIEW,
    WS,
    OnlineStoreContract,
    as_dict,
    put,
    redis_prefix,  # noqa: F401 - a fixture redis_store uses
    redis_store,  # noqa: F401 - a fixture
    values,
)


class TestSqliteOnlineStore(OnlineStoreContract):
    __test__ = True

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SqliteOnlineStore]:
        store = SqliteOnlineStore(default_path(tmp_path))
        yield store
        store.close()

    def test_values_outlive_the_store_object(self, store: SqliteOnlineStore) -> None:
        put(store, VIEW, [((1,), 10, None, values(1))])
        store.set_watermark(WS, VIEW, 10)
        store.close()
        again = SqliteOnlineStore(store.path)
        assert again.read(WS, VIEW, [(1,)]).values == [as_dict(1)]
        assert again.watermark(WS, VIEW) == 10
        again.close()

    def test_readers_in_threads_while_writing(self, store: SqliteOnlineStore) -> None:
        put(store, VIEW, [((n,), 1, None, values(n)) for n in range(100)])
        failures: list[BaseException] = []

        def read() -> None:
            try:
                for _ in range(50):
                    found = store.read(WS, VIEW, [(n,) for n in range(100)]).values
                    assert all(v is not None and v["b"] == n for n, v in enumerate(found))
            except BaseException as exc:  # reported below: a thread cannot fail the test
                failures.append(exc)

        threads = [threading.Thread(target=read) for _ in range(3)]
        for thread in threads:
            thread.start()
        for step in range(2, 40):
            put(store, VIEW, [((n,), step, None, values(n)) for n in range(100)])
        for thread in threads:
            thread.join()
        assert failures == []
        assert store.freshness(WS, VIEW) == 39


class TestRedisOnlineStore(OnlineStoreContract):
    __test__ = True

    @pytest.fixture
    def store(self, redis_store: RedisOnlineStore) -> RedisOnlineStore:  # noqa: F811
        return redis_store

    def test_keys_stay_under_the_prefix(self, store: RedisOnlineStore) -> None:
        put(store, VIEW, [((1,), 10, None, values(1))])
        store.set_watermark(WS, VIEW, 10)
        keys = sorted(store._client.scan_iter(match="*", count=10_000))
        mine = [k for k in keys if k.startswith(store.prefix.encode())]
        assert len(mine) == 2  # the value and the view's meta hash
        assert b":drivers:" in mine[0] and mine[1].endswith(b":meta")


def test_redis_delete_takes_the_prefix_literally(redis_prefix: str) -> None:  # noqa: F811
    odd = RedisOnlineStore(REDIS_URL, prefix=redis_prefix + "a?:")
    sibling = RedisOnlineStore(REDIS_URL, prefix=redis_prefix + "ab:")  # what "a?" would match
    for store in (odd, sibling):
        put(store, VIEW, [((1,), 10, None, values(1))])
    odd.delete(WS, "drivers")
    assert odd.read(WS, VIEW, [(1,)]).values == [None]
    assert sibling.read(WS, VIEW, [(1,)]).values == [as_dict(1)]
    odd.close()
    sibling.close()


def test_a_bad_redis_url_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="not a Redis URL"):
        RedisOnlineStore("http://127.0.0.1:6379")


def test_unreachable_redis_is_unavailable() -> None:
    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    store = RedisOnlineStore(url)
    with pytest.raises(Unavailable, match=r"Redis at redis://127\.0\.0\.1") as caught:
        store.read(WS, VIEW, [(1,)])
    assert "secret" not in str(caught.value)
    with pytest.raises(Unavailable):
        put(store, VIEW, [((1,), 10, None, values(1))])
    store.close()
