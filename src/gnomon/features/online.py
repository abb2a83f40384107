"""The online store contract (SQLite embedded, Redis at scale) and the packing both share.

Each entity's latest row of a view is one value under one key, so a lookup is one key read
per entity. A key is ``<workspace>:<view>:<schema hash>`` then the entity's join key values
as a JSON array (``encode_key``: the one canonical form, which materialisation and reads
both use). The schema hash covers the join keys and the features' names, types and order: a
view whose schema changes is read under a new namespace, never from values packed for the
old one (materialise again; the old namespace stays until ``delete``). The watermark and
freshness of a view live under the same namespace.

A value is one JSON array: ``[event ms, created ms or null, feature values...]``, the
features in the schema's order. Materialisation has DuckDB write it (``json_array``), other
writers ``pack``; any valid JSON of those values reads back the same. A float NaN or infinity
is stored as null; a timestamp feature as ISO 8601 text, read back as a ``datetime``.

A write keeps per entity the newest row by (event time, created time); at a tie the later
write wins. A row without a created time sorts before any with one at the same event time.
"""

from __future__ import annotations

import hashlib
import numbers
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import orjson

from gnomon.errors import InvalidInput, NotFound
from gnomon.features.definitions import FeatureView

Row = tuple[tuple[Any, ...], int, int | None, Sequence[Any]]
"""(entity key values in join key order, event ms, created ms or None, feature values in the
view's schema order)."""

Packed = tuple[bytes, int, int | None, bytes]
"""What a store writes: (``encode_key`` of the entity, event ms, created ms or None, the
value: ``pack`` of the same times and the features)."""

WORKSPACE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_PLAIN_KEYS = frozenset((int, str))


@dataclass(frozen=True, slots=True)
class OnlineView:
    """What an online store needs of a feature view: its name, join keys and features."""

    name: str
    join_keys: tuple[str, ...]
    features: tuple[str, ...]
    dtypes: tuple[str, ...]
    # derived once (a lookup takes microseconds): the namespace's hash, each feature's place
    # in a packed array (after the two times), the places of timestamp features
    schema_hash: str = field(init=False, repr=False, compare=False)
    positions: dict[str, int] = field(init=False, repr=False, compare=False)
    times: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        shape = [self.join_keys, list(zip(self.features, self.dtypes, strict=True))]
        digest = hashlib.blake2b(orjson.dumps(shape), digest_size=6).hexdigest()
        object.__setattr__(self, "schema_hash", digest)
        object.__setattr__(self, "positions", {f: i + 2 for i, f in enumerate(self.features)})
        times = frozenset(i + 2 for i, d in enumerate(self.dtypes) if d == "timestamp")
        object.__setattr__(self, "times", times)

    @classmethod
    def of(cls, view: FeatureView, join_keys: Sequence[str]) -> OnlineView:
        """``join_keys`` as the catalog gives them (``Catalog.join_keys(view)``)."""
        dtypes = tuple(f.dtype for f in view.schema)
        return cls(view.name, tuple(join_keys), tuple(view.feature_names), dtypes)

    def namespace(self, workspace: str) -> str:
        return f"{view_prefix(workspace, self.name)}{self.schema_hash}"


@dataclass(slots=True)  # not frozen: made on every lookup, and freezing costs a microsecond
class OnlineRead:
    """One read: per key asked, its features (``None`` when missing or expired), the event
    time of what was found (``None`` likewise), and how many were found but expired."""

    values: list[dict[str, Any] | None]
    event_ms: list[int | None]
    stale: int


@runtime_checkable
class OnlineStore(Protocol):
    """Latest feature values per entity, one key lookup each. Unknown views and features are
    the caller's (the Catalog's) to refuse: a store keeps whatever it is given."""

    def write(self, workspace: str, view: OnlineView, rows: Iterable[Packed]) -> int:
        """Stores each row unless a newer one of its entity is there; how many were given.
        ``pack_rows`` makes such rows of plain ones."""
        ...

    def read(
        self,
        workspace: str,
        view: OnlineView,
        keys: Sequence[tuple[Any, ...]],
        features: Sequence[str] | None = None,
        ttl_ms: int | None = None,
        now_ms: int | None = None,
    ) -> OnlineRead:
        """The values of ``features`` (default all) per key, in the order of ``keys``
        (each a tuple of the view's join key values, in its order); a value whose event
        time is more than ``ttl_ms`` before ``now_ms`` (default: now) is stale."""
        ...

    def watermark(self, workspace: str, view: OnlineView) -> int | None:
        """Where the last materialisation stopped reading (ms), or ``None``."""
        ...

    def set_watermark(self, workspace: str, view: OnlineView, watermark_ms: int) -> None: ...

    def freshness(self, workspace: str, view: OnlineView) -> int | None:
        """The newest event time stored for the view (ms), or ``None`` when empty."""
        ...

    def count_stale(self, workspace: str, view: OnlineView, count: int) -> None:
        """Adds ``count`` to the view's stale values found by lookups (kept with the store, so
        every process reading it adds to one figure, for ``/api/v1/metrics/features``)."""
        ...

    def stale_total(self, workspace: str, view: OnlineView) -> int:
        """Stale values lookups found in the view, as ``count_stale`` added them up."""
        ...

    def delete(self, workspace: str, view_name: str) -> None:
        """Forgets every value and watermark of the view, under every schema it had."""
        ...

    def close(self) -> None: ...


def view_prefix(workspace: str, view_name: str) -> str:
    if not isinstance(workspace, str) or not WORKSPACE.match(workspace):
        raise InvalidInput(f"workspace id must be 1 to 64 letters, digits, _ . or -: {workspace!r}")
    return f"{workspace}:{view_name}:"


def ttl_ms(view: FeatureView) -> int | None:
    """The view's TTL in milliseconds, as ``read`` takes it."""
    return None if view.ttl is None else int(view.ttl.total_seconds() * 1000)


def encode_key(key: object, width: int) -> bytes:
    """The entity part of a key: its values as a JSON array.

    Raises:
        InvalidInput: not a tuple of ``width`` strings or integers.
    """
    if not isinstance(key, tuple) or len(key) != width:
        raise InvalidInput(f"each entity key must be a tuple of {width} values; got {key!r}")
    for part in key:
        if type(part) in _PLAIN_KEYS:  # the common case, without the ABC check
            continue
        if not isinstance(part, str | numbers.Integral) or isinstance(part, bool):
            raise InvalidInput(f"entity key values must be strings or integers; got {key!r}")
    return _dumps(key)


def stored_keys(prefix: bytes, view: OnlineView, keys: object) -> list[bytes]:
    """The key each entity of ``keys`` is stored under: ``prefix`` (the store's namespace of
    the view) then ``encode_key``; a read looks these up, in this order.

    Raises:
        InvalidInput: ``keys`` is not a list of entity key tuples (see ``encode_key``).
    """
    if not isinstance(keys, list | tuple):
        raise InvalidInput(f"keys must be a list of entity key tuples; got {type(keys).__name__}")
    width = len(view.join_keys)
    return [prefix + encode_key(key, width) for key in keys]


def pack(event_ms: int, created_ms: int | None, values: Sequence[Any]) -> bytes:
    """One entity's row as stored.

    Raises:
        InvalidInput: a value JSON cannot hold (an arbitrary object).
    """
    try:
        return _dumps([event_ms, created_ms, *values])
    except orjson.JSONEncodeError as exc:
        raise InvalidInput(f"a feature value cannot be stored online: {exc}") from None


def _dumps(value: Any) -> bytes:
    # a copy: orjson's own results are slow to keep by the thousand (each holds a buffer
    # from the system allocator), and writes keep a batch of them
    options = orjson.OPT_SERIALIZE_NUMPY
    return b"%b" % orjson.dumps(value, default=_json_default, option=options)


def _json_default(value: Any) -> Any:
    """What orjson leaves out: pandas' Timestamp (a datetime subclass) and NaT (null)."""
    if isinstance(value, datetime):
        return None if value != value else value.isoformat()  # NaT is not itself
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def pack_rows(view: OnlineView, rows: Iterable[Row]) -> Iterator[Packed]:
    """``rows`` as a store writes them.

    Raises:
        InvalidInput: an entity key that is not a tuple of the view's join key count of
            strings or integers.
    """
    width = len(view.join_keys)
    for key, event_ms, created_ms, values in rows:
        yield encode_key(key, width), event_ms, created_ms, pack(event_ms, created_ms, values)


class Unpacker:
    """Turns stored values back into ``{feature: value}`` for the features asked, counting
    those older than the TTL as stale. Made before the lookup, so an unknown feature fails
    first."""

    def __init__(
        self,
        view: OnlineView,
        features: Sequence[str] | None,
        ttl_ms: int | None,
        now_ms: int | None,
    ) -> None:
        if features is None:  # every feature in the schema's order: the array zips in
            self._names: Sequence[str] = view.features
            self._picked: list[tuple[str, int]] | None = None
        else:
            unknown = [name for name in features if name not in view.positions]
            if unknown:
                raise NotFound(f"features {unknown} not found in feature view {view.name!r}")
            self._names = list(features)
            self._picked = [(name, view.positions[name]) for name in features]
        self._times = view.times
        self._oldest = None
        if ttl_ms is not None:
            self._oldest = (int(time.time() * 1000) if now_ms is None else now_ms) - ttl_ms

    def read(self, values: Iterable[bytes | None]) -> OnlineRead:
        """The features of each stored value (in the order given), ``None`` where a value
        is missing or stale."""
        loads, names, picked, oldest = orjson.loads, self._names, self._picked, self._oldest
        found: list[dict[str, Any] | None] = []
        events: list[int | None] = []
        stale = 0
        for value in values:
            row = None if value is None else loads(value)
            if row is None or (oldest is not None and row[0] < oldest):
                stale += row is not None
                found.append(None)
                events.append(None)
                continue
            if self._times:
                row = [_time(v) if i in self._times else v for i, v in enumerate(row)]
            if picked is None:
                found.append(dict(zip(names, row[2:], strict=True)))
            else:
                found.append({name: row[i] for name, i in picked})
            events.append(row[0])
        return OnlineRead(found, events, stale)


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
