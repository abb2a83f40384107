"""What an apply breaks for those already using the applied definitions: a feature whose
dtype changes (training sets and online values change type), join keys that change (the
keys entity frames and online lookups use), a feature or view removed under a feature
service that still names it, an entity removed under a view. Each problem is a sentence
naming what breaks and why."""

from __future__ import annotations

from gnomon.features.definitions import FeatureService, FeatureView
from gnomon.features.specs import Catalog


def breaking(before: Catalog, after: Catalog) -> list[str]:
    """Every problem going from ``before`` to ``after`` causes, in a stable order."""
    return [
        *_dtypes(before, after),
        *_join_keys(before, after),
        *_entities(before, after),
        *_services(before, after),
    ]


def _dtypes(before: Catalog, after: Catalog) -> list[str]:
    problems = []
    for name in sorted(before.views.keys() & after.views.keys()):
        old = {f.name: f.dtype for f in before.views[name].schema}
        for field in after.views[name].schema:
            if field.name in old and old[field.name] != field.dtype:
                users = _users(after, name, field.name)
                problems.append(
                    f"feature '{name}:{field.name}' changes dtype from {old[field.name]} to "
                    f"{field.dtype}{users}"
                )
    return problems


def _join_keys(before: Catalog, after: Catalog) -> list[str]:
    problems = []
    for name in sorted(before.entities.keys() & after.entities.keys()):
        old, new = before.entities[name].join_keys, after.entities[name].join_keys
        if old != new:
            views = sorted(v.name for v in after.views.values() if name in v.entities)
            used = f" (used by feature views {_names(views)})" if views else ""
            problems.append(
                f"entity '{name}' changes its join keys from {list(old)} to {list(new)}{used}"
            )
    for name in sorted(before.views.keys() & after.views.keys()):
        old_view, new_view = before.views[name], after.views[name]
        if old_view.entities == new_view.entities:
            continue  # a change of its entities' keys is told above
        old_keys, new_keys = _keys(before, old_view), _keys(after, new_view)
        if old_keys is not None and new_keys is not None and old_keys != new_keys:
            problems.append(
                f"feature view '{name}' changes its join keys from {old_keys} to {new_keys}"
            )
    return problems


def _entities(before: Catalog, after: Catalog) -> list[str]:
    gone = before.entities.keys() - after.entities.keys()
    return [
        f"feature view '{view.name}' uses entity '{entity}', which is removed"
        for view in sorted(after.views.values(), key=lambda v: v.name)
        for entity in view.entities
        if entity in gone
    ]


def _services(before: Catalog, after: Catalog) -> list[str]:
    problems = []
    for name in sorted(after.services):
        for ref in after.services[name].features:
            problem = _lost(before, after, ref)
            if problem:
                problems.append(f"feature service '{name}' uses {problem}")
    return problems


def _lost(before: Catalog, after: Catalog, ref: str) -> str | None:
    """How ``ref`` stops resolving (or loses features) from ``before`` to ``after``."""
    view_name, _, feature = ref.partition(":")
    old = before.views.get(view_name)
    if old is None or (feature and feature not in old.feature_names):
        return None  # it did not resolve before: validation tells, not this
    new = after.views.get(view_name)
    if new is None:
        return f"feature view '{view_name}', which is removed"
    if feature:
        if feature not in new.feature_names:
            return f"feature '{ref}', which feature view '{view_name}' no longer has"
        return None
    gone = [f for f in old.feature_names if f not in new.feature_names]
    if gone:
        return f"all of feature view '{view_name}', which loses the features {gone}"
    return None


def _users(catalog: Catalog, view: str, feature: str) -> str:
    users = sorted(s.name for s in catalog.services.values() if _uses(s, view, feature))
    return f" (used by feature services {_names(users)})" if users else ""


def _uses(service: FeatureService, view: str, feature: str) -> bool:
    return any(ref in (view, f"{view}:{feature}") for ref in service.features)


def _keys(catalog: Catalog, view: FeatureView) -> list[str] | None:
    if any(e not in catalog.entities for e in view.entities):
        return None  # an unknown entity: validation tells
    return catalog.join_keys(view)


def _names(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)
