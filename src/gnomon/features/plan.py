"""Planning an apply: which definitions it creates, updates, leaves or removes, the catalog it
leaves behind, and whether that catalog holds together (every view's entities, every
service's features). Pure: reads nothing, writes nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gnomon.errors import InvalidInput, NotFound
from gnomon.features.definitions import FeatureView
from gnomon.features.entities import (
    LABELS,
    AppliedDefinition,
    ApplyPlan,
    Change,
    Kind,
    NewVersion,
    Writes,
)
from gnomon.features.specs import Catalog, Definition, catalog_of, kind_of, to_spec
from gnomon.features.sql import dump

MAX_SPEC_BYTES = 256 * 1024  # per definition
MAX_DEFINITIONS = 10_000  # per workspace: listings and catalogs are read whole
MAX_WORKSPACE_BYTES = 16 * 2**20  # every live spec of a workspace, as JSON
MAX_PROBLEMS = 20  # named in one error: the rest are counted
_SHOWN = 80  # characters of a changed value shown in a change's details


@dataclass(frozen=True, slots=True)
class Planned:
    """An apply's plan (without what breaks), its writes, the catalogs before and after, and
    the views whose sources must be checked (new or changed, or with changed join keys)."""

    plan: ApplyPlan
    writes: Writes
    before: Catalog
    after: Catalog
    to_check: tuple[str, ...]


def plan_apply(
    current: Sequence[AppliedDefinition],
    last_versions: dict[tuple[str, str], int],
    definitions: Sequence[Definition],
    prune: bool = False,
) -> Planned:
    """The plan of applying ``definitions`` over ``current``.

    Raises:
        InvalidInput: a name defined twice differently, a spec over the size limit, too many
            definitions, or references that do not resolve (all named).
    """
    wanted = _specs(definitions)
    live = {(d.kind, d.name): d for d in current}
    changes, versions = [], []
    for (kind, name), spec in wanted.items():
        change, new = _change(kind, name, spec, live.get((kind, name)), last_versions)
        changes.append(change)
        if new is not None:
            versions.append(new)
    removed = [key for key in live if key not in wanted] if prune else []
    changes += [Change(k, n, "removed", None, live[(k, n)].version) for k, n in removed]
    total = len(live) - len(removed) + sum(1 for c in changes if c.action == "created")
    if total > MAX_DEFINITIONS:
        raise InvalidInput(f"a workspace holds at most {MAX_DEFINITIONS:,} feature definitions")
    before = catalog_of({key: d.spec for key, d in live.items()})
    after_specs = {key: d.spec for key, d in live.items() if key not in removed}
    size = sum(len(dump(spec)) for spec in {**after_specs, **wanted}.values())
    if size > MAX_WORKSPACE_BYTES:  # listings and catalogs are read whole
        raise InvalidInput(
            f"the workspace's feature definitions would be {size:,} bytes as JSON; at most "
            f"{MAX_WORKSPACE_BYTES:,} are kept"
        )
    after = catalog_of({**after_specs, **wanted})
    to_check = _to_check(before, after)
    check_references(
        after,
        {name for kind, name in wanted if kind == "view"} | set(to_check),
        {name for kind, name in wanted if kind == "service"},
    )
    writes = Writes(
        versions=tuple(versions),
        removals=tuple(removed),
        based_on=frozenset((k, n, d.version) for (k, n), d in live.items()),
    )
    changes.sort(key=lambda c: (_ORDER[c.kind], c.name))
    return Planned(ApplyPlan(tuple(changes)), writes, before, after, to_check)


def digest_of(spec: dict[str, Any]) -> str:
    return hashlib.sha256(dump(spec).encode()).hexdigest()


def check_references(catalog: Catalog, views: set[str], services: set[str]) -> None:
    """Raises ``InvalidInput`` naming every unknown entity of ``views``, unknown feature of
    ``services``, and column a view declares twice. Definitions applied earlier and left
    alone are not checked: what an apply takes from under them is breaking (``--force``)."""
    problems = []
    for view in sorted((catalog.views[n] for n in views), key=lambda v: v.name):
        unknown = [e for e in view.entities if e not in catalog.entities]
        problems += [f"feature view '{view.name}' names the unknown entity '{e}'" for e in unknown]
        if not unknown:
            problems += _clashes(view, catalog.join_keys(view))
    for name in sorted(services):
        try:
            catalog.resolve(service=name)
        except NotFound as exc:
            problems.append(f"feature service '{name}': {exc.message}")
    if problems:
        raise InvalidInput(shown(problems), {"problems": problems[:MAX_PROBLEMS]})


def shown(problems: list[str]) -> str:
    """The first ``MAX_PROBLEMS`` problems, and how many more: one error stays readable."""
    more = len(problems) - MAX_PROBLEMS
    return "; ".join(problems[:MAX_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")


_ORDER = {"entity": 0, "view": 1, "service": 2}


def _clashes(view: FeatureView, join_keys: list[str]) -> list[str]:
    from gnomon.features.sources import columns_of  # duckdb: only when there is a view

    columns = columns_of(view, join_keys)
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if not twice:
        return []
    return [
        f"feature view '{view.name}' uses the columns {twice} for more than one of its join "
        "keys, features and timestamp fields"
    ]


def _specs(definitions: Sequence[Definition]) -> dict[tuple[Kind, str], dict[str, Any]]:
    if len(definitions) > MAX_DEFINITIONS:
        raise InvalidInput(f"at most {MAX_DEFINITIONS:,} definitions are applied at once")
    wanted: dict[tuple[Kind, str], dict[str, Any]] = {}
    for definition in definitions:
        kind: Kind = kind_of(definition)  # type: ignore[assignment]
        spec = to_spec(definition)
        size = len(dump(spec))
        if size > MAX_SPEC_BYTES:
            raise InvalidInput(
                f"{LABELS[kind]} '{definition.name}' is {size:,} bytes as JSON; at most "
                f"{MAX_SPEC_BYTES:,} are stored per definition"
            )
        key = (kind, definition.name)
        if key in wanted and wanted[key] != spec:
            raise InvalidInput(f"{LABELS[kind]} '{definition.name}' is defined twice, differently")
        wanted[key] = spec
    return wanted


def _change(
    kind: Kind,
    name: str,
    spec: dict[str, Any],
    live: AppliedDefinition | None,
    last_versions: dict[tuple[str, str], int],
) -> tuple[Change, NewVersion | None]:
    digest = digest_of(spec)
    if live is not None and live.digest == digest:
        return Change(kind, name, "unchanged", live.version, live.version), None
    version = max(last_versions.get((kind, name), 0), live.version if live else 0) + 1
    new = NewVersion(kind, name, version, spec, digest)
    if live is None:
        return Change(kind, name, "created", version), new
    details = tuple(describe(live.spec, spec))
    return Change(kind, name, "updated", version, live.version, details), new


def describe(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two specs of one definition, one line per difference."""
    lines = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key == "schema":
            lines += _schema_changes(before or [], after or [])
        else:
            lines.append(f"{key}: {_short(before)} -> {_short(after)}")
    return lines


def _schema_changes(old: list[dict[str, str]], new: list[dict[str, str]]) -> list[str]:
    before = {f["name"]: f["dtype"] for f in old}
    after = {f["name"]: f["dtype"] for f in new}
    lines = [f"feature {n} added ({after[n]})" for n in after if n not in before]
    lines += [f"feature {n} removed" for n in before if n not in after]
    lines += [
        f"feature {n}: {before[n]} -> {after[n]}"
        for n in after
        if n in before and before[n] != after[n]
    ]
    if not lines:
        lines.append("features reordered")
    return lines


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _to_check(before: Catalog, after: Catalog) -> tuple[str, ...]:
    names = []
    for name, view in sorted(after.views.items()):
        old, keys = before.views.get(name), _keys(after, view)
        if keys is None:
            continue  # its entity is gone (a forced prune): nothing to read it by
        if old is None or old != view or _keys(before, old) != keys:
            names.append(name)
    return tuple(names)


def _keys(catalog: Catalog, view: FeatureView) -> list[str] | None:
    try:
        return catalog.join_keys(view)
    except NotFound:
        return None
