"""The online store at scale: Redis (``redis://host:6379/0``), one string per entity and view.

Writes go through a Lua script, run atomically by the server, that sets each value unless the
stored one is newer (it reads the two times that lead the stored JSON array), so there is no
read-then-write race between materialisations. Batches of scripts are
pipelined. A read is one ``MGET`` of all the keys asked for. The keys of one write batch go
to one script call, so on a Redis Cluster they would have to share a hash slot: this store
targets a single Redis server (or a replicated one).

Keys: ``<prefix><workspace>:<view>:<schema hash>:k:<entity JSON>``; the view's watermark,
freshness and the stale values lookups found are fields of the hash
``<prefix><workspace>:<view>:<schema hash>:meta``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

from gnomon.errors import InvalidInput, Unavailable
from gnomon.features.online import (
    OnlineRead,
    OnlineView,
    Packed,
    Unpacker,
    stored_keys,
    view_prefix,
)

SCRIPT_KEYS = 1_000  # values per script call
PIPELINE_CALLS = 20  # script calls per round trip
READ_CHUNK = 10_000  # keys per MGET
DEFAULT_PREFIX = "gnomon:"
# connecting, and each reply: a server gone quiet is Unavailable, not a request held forever
# (redis-py before 6 waits without end); ``?socket_timeout=`` in the URL overrides it
TIMEOUT_S = 5.0

# KEYS: the values' keys, then the meta hash; ARGV: the packed values, then the batch's
# newest event time. Sets a value unless the stored one's (event, created) is newer: both
# lead the stored JSON array, ``[event,created,...]``, created may be null (the oldest).
NEWEST_WINS = """
local function times(value)
  local event, created = string.match(value, '^%[(%-?%d+),([^,%]]+)')
  return tonumber(event), tonumber(created) or -math.huge
end
local n = #KEYS - 1
for i = 1, n do
  local old = redis.call('GET', KEYS[i])
  local keep = false
  if old then
    local oe, oc = times(old)
    local ne, nc = times(ARGV[i])
    keep = oe > ne or (oe == ne and oc > nc)
  end
  if not keep then redis.call('SET', KEYS[i], ARGV[i]) end
end
local fresh = redis.call('HGET', KEYS[n + 1], 'freshness')
if not fresh or tonumber(fresh) < tonumber(ARGV[n + 1]) then
  redis.call('HSET', KEYS[n + 1], 'freshness', ARGV[n + 1])
end
return n
"""


class RedisOnlineStore:
    """Online values in Redis; ``prefix`` starts every key this store writes."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX) -> None:
        try:
            import redis
        except ImportError:
            raise InvalidInput(
                "the Redis online store needs the redis extra: pip install 'gnomon[redis]'"
            ) from None
        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        self.url, self.prefix = url, prefix
        try:
            self._client = redis.Redis.from_url(
                url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
            )
        except ValueError as exc:
            raise InvalidInput(f"not a Redis URL ({_safe(url)}): {exc}") from None
        self._script = self._client.register_script(NEWEST_WINS)

    def _namespace(self, workspace: str, view: OnlineView) -> str:
        return self.prefix + view.namespace(workspace)

    def write(self, workspace: str, view: OnlineView, rows: Iterable[Packed]) -> int:
        namespace = self._namespace(workspace, view)
        prefix, meta = namespace.encode() + b":k:", namespace + ":meta"
        written = 0
        batches = _batches(iter(rows), SCRIPT_KEYS)
        with self._connected():
            while calls := list(islice(batches, PIPELINE_CALLS)):
                pipe = self._client.pipeline(transaction=False)
                for batch in calls:
                    keys = [prefix + row[0] for row in batch]
                    values = [row[3] for row in batch]
                    newest = max(row[1] for row in batch)
                    self._script(keys=[*keys, meta], args=[*values, newest], client=pipe)
                    written += len(batch)
                pipe.execute()
        return written

    def read(
        self,
        workspace: str,
        view: OnlineView,
        keys: Sequence[tuple[Any, ...]],
        features: Sequence[str] | None = None,
        ttl_ms: int | None = None,
        now_ms: int | None = None,
    ) -> OnlineRead:
        unpack = Unpacker(view, features, ttl_ms, now_ms)
        wanted = stored_keys(self._namespace(workspace, view).encode() + b":k:", view, keys)
        found: list[Any] = []  # bytes or None: the client decodes no response
        with self._connected():
            for start in range(0, len(wanted), READ_CHUNK):
                found += self._client.mget(wanted[start : start + READ_CHUNK])
        return unpack.read(found)

    def watermark(self, workspace: str, view: OnlineView) -> int | None:
        return self._meta(workspace, view, "watermark")

    def set_watermark(self, workspace: str, view: OnlineView, watermark_ms: int) -> None:
        meta = self._namespace(workspace, view) + ":meta"
        with self._connected():
            self._client.hset(meta, "watermark", int(watermark_ms))

    def freshness(self, workspace: str, view: OnlineView) -> int | None:
        return self._meta(workspace, view, "freshness")

    def count_stale(self, workspace: str, view: OnlineView, count: int) -> None:
        if count > 0:
            with self._connected():
                self._client.hincrby(self._namespace(workspace, view) + ":meta", "stale", count)

    def stale_total(self, workspace: str, view: OnlineView) -> int:
        return self._meta(workspace, view, "stale") or 0

    def _meta(self, workspace: str, view: OnlineView, field: str) -> int | None:
        with self._connected():
            value = self._client.hget(self._namespace(workspace, view) + ":meta", field)
        return None if value is None else int(value)

    def delete(self, workspace: str, view_name: str) -> None:
        literal = self.prefix + view_prefix(workspace, view_name)
        pattern = re.sub(r"([\\*?\[\]])", r"\\\1", literal) + "*"  # glob characters escaped
        with self._connected():
            doomed = list(self._client.scan_iter(match=pattern, count=10_000))
            for start in range(0, len(doomed), READ_CHUNK):
                self._client.unlink(*doomed[start : start + READ_CHUNK])

    def close(self) -> None:
        self._client.close()

    @contextmanager
    def _connected(self) -> Iterator[None]:
        """Turns a connection failure into ``Unavailable`` naming the server."""
        try:
            yield
        except self._errors as exc:
            raise Unavailable(f"Redis at {_safe(self.url)} cannot be reached: {exc}") from exc


def _safe(url: str) -> str:
    """The URL without its password."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}" if "@" in rest else url


def _batches(rows: Iterator[Packed], size: int) -> Iterator[list[Packed]]:
    while batch := list(islice(rows, size)):
        yield batch
