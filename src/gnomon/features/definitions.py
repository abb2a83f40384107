"""What a data scientist writes in a repo file: ``Entity``, ``FeatureView`` (over a source),
``FeatureService``. Plain frozen values, checked when made, stored as JSON specs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from gnomon.errors import InvalidInput

DTYPES = ("float64", "float32", "int64", "int32", "bool", "string", "timestamp")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,127}$")
# A column of a source: any printable text but ":" (``view:feature`` references), so the
# columns of an existing table ("mean radius") need no renaming.
COLUMN = re.compile(r"^[^\x00-\x1f\x7f:\"]{1,128}$")
MAX_FEATURES = 1000  # per view
MAX_KEYS = 8  # join keys per entity
MAX_REFS = 1000  # features a service names
MAX_PATH = 4096  # a file source's path, a PostgreSQL URI
MAX_REF = 300  # a dataset ref: name@version
MAX_QUERY = 65_536
MAX_DESCRIPTION = 10_000


def check_column(what: str, name: object) -> str:
    if not isinstance(name, str) or not COLUMN.match(name) or name != name.strip():
        raise InvalidInput(
            f"{what} must be 1 to 128 printable characters without ':' or '\"' and without "
            f"surrounding spaces; got {_shown(name)}"
        )
    return name


def check_name(what: str, name: object) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidInput(
            f"{what} name must be a letter or _ then letters, digits, _ or -, "
            f"at most 128 characters; got {_shown(name)}"
        )
    return name


def check_ref(ref: object) -> str:
    """``view`` or ``view:feature``, each part a valid name."""
    if not isinstance(ref, str):
        raise InvalidInput(f"a feature reference is view or view:feature text, not {_shown(ref)}")
    view, colon, feature = ref.partition(":")
    check_name("feature view", view)
    if colon:
        check_column("feature", feature)
    return ref


def _check_text(what: str, value: object, most: int, *, empty: bool = False) -> None:
    if not isinstance(value, str) or (not value and not empty) or len(value) > most:
        raise InvalidInput(f"{what} is text of {0 if empty else 1} to {most:,} characters")
    if "\x00" in value:
        raise InvalidInput(f"{what} holds a NUL character")


def _shown(value: object) -> str:
    """``value`` for an error message: a client's 10,000-character name is not echoed whole."""
    text = repr(value)
    return text if len(text) <= 140 else f"{text[:130]}… ({len(text):,} characters)"


@dataclass(frozen=True, slots=True)
class Entity:
    """What features describe (a customer, a card): its name and the columns that identify
    one (``join_keys``) in sources and entity frames."""

    name: str
    join_keys: tuple[str, ...]
    description: str = ""

    def __post_init__(self) -> None:
        check_name("entity", self.name)
        keys = tuple(self.join_keys) if not isinstance(self.join_keys, str) else (self.join_keys,)
        object.__setattr__(self, "join_keys", keys)
        if not 1 <= len(keys) <= MAX_KEYS:
            raise InvalidInput(f"entity {self.name!r} needs 1 to {MAX_KEYS} join keys")
        for key in keys:
            check_column("join key", key)
        _check_text("a description", self.description, MAX_DESCRIPTION, empty=True)


@dataclass(frozen=True, slots=True)
class Field:
    """One typed column of a view: a feature."""

    name: str
    dtype: str = "float64"

    def __post_init__(self) -> None:
        check_column("feature", self.name)
        if self.dtype not in DTYPES:
            raise InvalidInput(f"feature {self.name!r}: dtype must be one of {DTYPES}")


@dataclass(frozen=True, slots=True)
class FileSource:
    """A Parquet or CSV file, or a folder of them (read as one table)."""

    path: str
    format: Literal["parquet", "csv"] = "parquet"
    kind: str = field(default="file", init=False)

    def __post_init__(self) -> None:
        _check_text("a file source's path", self.path, MAX_PATH)
        if self.format not in ("parquet", "csv"):
            raise InvalidInput(
                f"a file source's format is parquet or csv, not {_shown(self.format)}"
            )


@dataclass(frozen=True, slots=True)
class DatasetSource:
    """A dataset version of gnomon's data capability (``name@version``; ``name`` alone is the
    latest version when the view is applied)."""

    ref: str
    kind: str = field(default="dataset", init=False)

    def __post_init__(self) -> None:
        _check_text("a dataset source's ref", self.ref, MAX_REF)


@dataclass(frozen=True, slots=True)
class PostgresSource:
    """A table or a query of a PostgreSQL database, read in chunks."""

    uri: str
    query: str
    kind: str = field(default="postgres", init=False)

    def __post_init__(self) -> None:
        _check_text("a PostgreSQL source's URI", self.uri, MAX_PATH)
        _check_text("a PostgreSQL source's query", self.query, MAX_QUERY)
        # Definitions are stored and shown (gnomon features show): never a password in them.
        parts = urlsplit(self.uri)
        if parts.scheme not in ("postgresql", "postgres"):
            raise InvalidInput(
                f"a PostgreSQL source needs a postgresql:// URI, got {parts.scheme!r}"
            )
        named = {k.strip().lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
        if parts.password or "password" in named or "password=" in parts.query.lower():
            raise InvalidInput(
                "the source's URI holds a password, and definitions are stored as written: "
                "give it in PGPASSWORD or ~/.pgpass instead"
            )


Source = FileSource | DatasetSource | PostgresSource


@dataclass(frozen=True, slots=True)
class FeatureView:
    """Typed features of one or more entities, read from ``source``: each row holds the join
    keys, the features, the event time (``timestamp_field``) and optionally when the row was
    written (``created_timestamp_field``, which breaks ties between rows of one event time).
    A value older than ``ttl`` at the time asked is no value."""

    name: str
    entities: tuple[str, ...]
    source: Source
    schema: tuple[Field, ...]
    timestamp_field: str = "event_timestamp"
    created_timestamp_field: str | None = None
    ttl: timedelta | None = None
    description: str = ""

    def __post_init__(self) -> None:
        check_name("feature view", self.name)
        names = tuple(
            e.name if isinstance(e, Entity) else check_name("entity", e)
            for e in _many(self.entities)
        )
        object.__setattr__(self, "entities", names)
        if len(names) > MAX_KEYS:
            raise InvalidInput(f"feature view {self.name!r} names over {MAX_KEYS} entities")
        if not isinstance(self.source, FileSource | DatasetSource | PostgresSource):
            raise InvalidInput(f"feature view {self.name!r}: its source is no source")
        if any(not isinstance(f, Field) for f in _many(self.schema)):
            raise InvalidInput(f"feature view {self.name!r}: its schema holds Fields only")
        _check_text("a description", self.description, MAX_DESCRIPTION, empty=True)
        object.__setattr__(self, "schema", tuple(_many(self.schema)))
        if not names:
            raise InvalidInput(f"feature view {self.name!r} names no entity")
        if not 1 <= len(self.schema) <= MAX_FEATURES:
            raise InvalidInput(f"feature view {self.name!r} needs 1 to {MAX_FEATURES} features")
        seen = [f.name for f in self.schema]
        if len(set(seen)) != len(seen):
            raise InvalidInput(f"feature view {self.name!r} names a feature twice")
        check_column("timestamp field", self.timestamp_field)
        if self.created_timestamp_field is not None:
            check_column("created timestamp field", self.created_timestamp_field)
        if self.ttl is not None and self.ttl <= timedelta(0):
            raise InvalidInput(f"feature view {self.name!r}: ttl must be positive")

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.schema]


@dataclass(frozen=True, slots=True)
class FeatureService:
    """The features a model consumes: ``view:feature`` references, or ``view`` for all of a
    view's features."""

    name: str
    features: tuple[str, ...]
    description: str = ""

    def __post_init__(self) -> None:
        check_name("feature service", self.name)
        refs = tuple(_many(self.features))
        object.__setattr__(self, "features", refs)
        if not refs:
            raise InvalidInput(f"feature service {self.name!r} names no feature")
        if len(refs) > MAX_REFS:
            raise InvalidInput(f"feature service {self.name!r} names over {MAX_REFS} features")
        for ref in refs:
            check_ref(ref)
        _check_text("a description", self.description, MAX_DESCRIPTION, empty=True)


def _many(value: Any) -> list[Any]:
    if isinstance(value, str | Entity | Field):
        return [value]
    return list(value)
