"""Search statements compiled once per shape of query, then run as plain SQL.

Building a search with SQLAlchemy and compiling it costs about a millisecond, more than
SQLite takes to answer it. Queries that differ only in their values (experiment ids,
compared numbers and strings, page offset) share one shape: the statement is built once
with named bind parameters in place of those values and compiled for the dialect; each
search then only fills the parameters in.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Dialect, bindparam

from gnomon._types import Scope, decode_offset_token
from gnomon.tracking.search import Comparison, RunQuery
from gnomon.tracking.sql_search import compile_search
from gnomon.tracking.tables import runs

_PLANS = 256  # shapes kept per process


@dataclass(frozen=True, slots=True)
class Plan:
    sql: str
    names: tuple[str, ...] | None  # positional drivers: parameter names in order
    fixed: Mapping[str, Any]  # the values baked into the shape (keys named in joins)


def search_sql(
    dialect: Dialect,
    scope: Scope,
    query: RunQuery,
    *,
    order_first: bool = False,
    ids_only: bool = False,
) -> tuple[str, Sequence[Any] | Mapping[str, Any]]:
    """The SQL selecting one page (``max_results + 1`` rows: every run column, or with
    ``ids_only`` the id) of ``query``, and its parameters in the driver's style;
    ``order_first`` as ``compile_search`` takes it."""
    plan = _plan(dialect, _shape(query), order_first, ids_only)
    values = {**plan.fixed, **_values(scope, query)}
    if plan.names is None:
        return plan.sql, values
    return plan.sql, tuple(values[name] for name in plan.names)


def _shape(query: RunQuery) -> RunQuery:
    """``query`` with every value a client varies replaced by the same placeholder, so that
    equal shapes compare (and hash) equal."""
    return replace(
        query,
        experiment_ids=("",) * len(query.experiment_ids),
        filters=tuple(replace(c, value=_placeholder(c.value)) for c in query.filters),
        max_results=0,
        page_token=None,
        filter_text="",
        order_text=(),
    )


def _placeholder(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(type(v)() for v in value)
    return None if value is None else type(value)()


def _values(scope: Scope, query: RunQuery) -> dict[str, Any]:
    values: dict[str, Any] = {
        "workspace": scope.workspace,
        "limit": query.max_results + 1,
        "offset": decode_offset_token(query.page_token),
    }
    values.update({f"e{i}": e for i, e in enumerate(query.experiment_ids)})
    for i, comparison in enumerate(query.filters):
        values.update(_comparison_values(i, comparison.value))
    return values


def _comparison_values(index: int, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, tuple):
        return {f"v{index}_{j}": v for j, v in enumerate(value)}
    return {f"v{index}": value}


def _bound(index: int, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, tuple):
        return tuple(bindparam(f"v{index}_{j}", v) for j, v in enumerate(value))
    return bindparam(f"v{index}", value)


@functools.lru_cache(maxsize=_PLANS)
def _plan(
    dialect: Dialect, shape: RunQuery, order_first: bool = False, ids_only: bool = False
) -> Plan:
    template = replace(
        shape,
        experiment_ids=tuple(
            bindparam(f"e{i}", "")  # type: ignore[misc]
            for i in range(len(shape.experiment_ids))
        ),
        filters=tuple(
            Comparison(c.field, c.op, _bound(i, c.value)) for i, c in enumerate(shape.filters)
        ),
    )
    scope = Scope(workspace=bindparam("workspace", ""))  # type: ignore[arg-type]
    statement = (
        compile_search(scope, template, order_first=order_first)
        .with_only_columns(*([runs.c.id] if ids_only else runs.c))
        .limit(bindparam("limit", 0))
        .offset(bindparam("offset", 0))
    )
    compiled = statement.compile(dialect=dialect)
    ours = set(_values(Scope(), shape))
    fixed = {k: v for k, v in compiled.params.items() if k not in ours}
    names = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    sql = compiled.string
    if order_first and dialect.name == "sqlite":
        # SQLite orders inner joins as it estimates best, and it estimates the filters'
        # indexes first; CROSS JOIN is its way to keep the order written (ordering first).
        sql = re.sub(r"(?<!OUTER) JOIN ", " CROSS JOIN ", sql)
    return Plan(sql, names, fixed)
