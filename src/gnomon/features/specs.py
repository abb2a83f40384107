"""Definitions as JSON specs (what the metadata store keeps and the server receives) and
back, and the catalog of what is applied: which view holds each referenced feature."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from gnomon.errors import InvalidInput, NotFound
from gnomon.features.definitions import (
    DatasetSource,
    Entity,
    FeatureService,
    FeatureView,
    Field,
    FileSource,
    PostgresSource,
    Source,
)
from gnomon.features.entities import Kind

Definition = Entity | FeatureView | FeatureService


def kind_of(definition: Definition) -> str:
    return {Entity: "entity", FeatureView: "view", FeatureService: "service"}[type(definition)]


def to_spec(definition: Definition) -> dict[str, Any]:
    """A JSON-ready dict of ``definition``."""
    if isinstance(definition, Entity):
        return {
            "name": definition.name,
            "join_keys": list(definition.join_keys),
            "description": definition.description,
        }
    if isinstance(definition, FeatureService):
        return {
            "name": definition.name,
            "features": list(definition.features),
            "description": definition.description,
        }
    view = definition
    return {
        "name": view.name,
        "entities": list(view.entities),
        "source": _source_spec(view.source),
        "schema": [{"name": f.name, "dtype": f.dtype} for f in view.schema],
        "timestamp_field": view.timestamp_field,
        "created_timestamp_field": view.created_timestamp_field,
        "ttl_seconds": None if view.ttl is None else view.ttl.total_seconds(),
        "description": view.description,
    }


def from_spec(kind: str, spec: dict[str, Any]) -> Definition:
    """The definition a spec describes.

    Raises:
        InvalidInput: an unknown kind, or a spec that does not describe a valid definition.
    """
    if not isinstance(spec, dict):
        raise InvalidInput(f"a {kind} spec is a JSON object")
    _known_keys(kind, spec)
    try:
        if kind == "entity":
            return Entity(spec["name"], _listed(spec["join_keys"]), spec.get("description", ""))
        if kind == "service":
            return FeatureService(
                spec["name"], _listed(spec["features"]), spec.get("description", "")
            )
        if kind == "view":
            ttl = _seconds(spec.get("ttl_seconds"))
            return FeatureView(
                name=spec["name"],
                entities=_listed(spec["entities"]),
                source=_source(spec["source"]),
                schema=tuple(
                    Field(f["name"], f.get("dtype", "float64")) for f in _listed(spec["schema"])
                ),
                timestamp_field=spec.get("timestamp_field", "event_timestamp"),
                created_timestamp_field=spec.get("created_timestamp_field"),
                ttl=None if ttl is None else timedelta(seconds=float(ttl)),
                description=spec.get("description", ""),
            )
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        # A spec from a client's JSON may be any shape: each of these is a malformed spec.
        raise InvalidInput(f"malformed {kind} spec: {exc}"[:500]) from None
    raise InvalidInput(f"unknown definition kind {kind!r}: entity, view or service")


_KEYS = {
    "entity": {"name", "join_keys", "description"},
    "service": {"name", "features", "description"},
    "view": {
        *("name", "entities", "source", "schema", "timestamp_field"),
        *("created_timestamp_field", "ttl_seconds", "description"),
    },
}
_SOURCE_KEYS = {"file": {"kind", "path", "format"}, "dataset": {"kind", "ref"}}
_SOURCE_KEYS["postgres"] = {"kind", "uri", "query"}
MAX_TTL_S = 100 * 365 * 86_400


def _known_keys(kind: str, spec: dict[str, Any]) -> None:
    # A misspelt key ("ttl" for "ttl_seconds") would silently mean its default.
    unknown = sorted(str(k)[:64] for k in spec if k not in _KEYS.get(kind, spec.keys()))
    if unknown:
        raise InvalidInput(f"a {kind} spec has no keys {unknown[:10]}")


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(
            f"ttl_seconds is a number of seconds or null, not {type(value).__name__}"
        )
    if not 0 < value <= MAX_TTL_S:
        raise InvalidInput(f"ttl_seconds is more than 0 and at most {MAX_TTL_S:,} (100 years)")
    return float(value)


def _listed(value: Any) -> tuple[Any, ...]:
    # A JSON string is iterable too: "key" must not become the join keys k, e, y.
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return tuple(value)


def _source_spec(source: Source) -> dict[str, Any]:
    if isinstance(source, FileSource):
        return {"kind": "file", "path": source.path, "format": source.format}
    if isinstance(source, DatasetSource):
        return {"kind": "dataset", "ref": source.ref}
    return {"kind": "postgres", "uri": source.uri, "query": source.query}


def _source(spec: dict[str, Any]) -> Source:
    if not isinstance(spec, dict):
        raise InvalidInput("a view's source is a JSON object with a kind")
    kind = spec.get("kind")
    if kind in _SOURCE_KEYS and (unknown := sorted(set(spec) - _SOURCE_KEYS[kind])):
        raise InvalidInput(f"a {kind} source has no keys {[str(k)[:64] for k in unknown[:10]]}")
    if kind == "file":
        return FileSource(spec["path"], spec.get("format", "parquet"))
    if kind == "dataset":
        return DatasetSource(spec["ref"])
    if kind == "postgres":
        return PostgresSource(spec["uri"], spec["query"])
    raise InvalidInput(f"unknown source kind {str(kind)[:64]!r}: file, dataset or postgres")


@dataclass(frozen=True, slots=True)
class Catalog:
    """The applied definitions, by name."""

    entities: dict[str, Entity] = field(default_factory=dict)
    views: dict[str, FeatureView] = field(default_factory=dict)
    services: dict[str, FeatureService] = field(default_factory=dict)

    def view(self, name: str) -> FeatureView:
        if name not in self.views:
            raise NotFound(f"feature view {name!r} not found")
        return self.views[name]

    def join_keys(self, view: FeatureView) -> list[str]:
        keys: list[str] = []
        for name in view.entities:
            if name not in self.entities:
                raise NotFound(f"entity {name!r} of feature view {view.name!r} not found")
            keys += [k for k in self.entities[name].join_keys if k not in keys]
        return keys

    def resolve(
        self, features: list[str] | None = None, service: str | None = None
    ) -> dict[str, list[str]]:
        """View name → its features asked for, in the order asked; ``features`` are
        ``view:feature`` or ``view`` (all its features).

        Raises:
            InvalidInput: neither or both of ``features`` and ``service``.
            NotFound: an unknown service, view or feature, named.
        """
        if (features is None) == (service is None):
            raise InvalidInput("give features=[...] or service=..., one of them")
        if service is not None:
            if service not in self.services:
                raise NotFound(f"feature service {service!r} not found")
            features = list(self.services[service].features)
        chosen: dict[str, list[str]] = {}
        for ref in features or []:
            view_name, _, feature = ref.partition(":")
            view = self.view(view_name)
            names = view.feature_names if not feature else [feature]
            for name in names:
                if name not in view.feature_names:
                    raise NotFound(f"feature {name!r} not found in feature view {view_name!r}")
                if name not in chosen.setdefault(view_name, []):
                    chosen[view_name].append(name)
        if not chosen:
            raise InvalidInput("no feature asked for")
        return chosen


def catalog_of(specs: dict[tuple[Kind, str], dict[str, Any]]) -> Catalog:
    """The catalog of definitions by (kind, name), as the metadata store keeps their specs.

    Raises:
        InvalidInput: a spec that does not describe a valid definition.
    """
    catalog = Catalog()
    for (kind, name), spec in specs.items():
        definition = from_spec(kind, spec)
        if isinstance(definition, Entity):
            catalog.entities[name] = definition
        elif isinstance(definition, FeatureView):
            catalog.views[name] = definition
        else:
            catalog.services[name] = definition
    return catalog
