"""Compile a parsed :class:`RunQuery` to one SQL statement selecting run ids.

Each metric, param or tag a filter names becomes an inner join on its (key, value) index;
each one an ordering names becomes an outer join, so runs lacking it sort last, and so does
one an ``IS NULL`` names, which keeps the runs the join found nothing for. Nothing is
filtered in Python.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, select

from gnomon._types import Scope
from gnomon.tracking.search import (
    MAX_SEARCH_TERMS,
    NULL_OPS,
    Comparison,
    Field,
    FieldKind,
    OrderBy,
    RunQuery,
    too_many_terms,
)
from gnomon.tracking.tables import experiments, latest_metrics, params, runs, tags

_TABLES = {FieldKind.METRIC: latest_metrics, FieldKind.PARAM: params, FieldKind.TAG: tags}
_ATTRIBUTE_COLUMNS = {
    "status": runs.c.status,
    "name": runs.c.name,
    "run_id": runs.c.id,
    "user": runs.c.user,
    "experiment_id": runs.c.experiment_id,
    "parent_run_id": runs.c.parent_run_id,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
}


def orders_by_a_value(query: RunQuery) -> bool:
    """Whether the first ordering is a metric, param or tag: one with a (key, value) index
    that a search can be driven by (``compile_search(order_first=True)``)."""
    return bool(query.order_by) and query.order_by[0].field.kind is not FieldKind.ATTRIBUTE


def compile_search(scope: Scope, query: RunQuery, *, order_first: bool = False) -> Select[Any]:
    """The search as one statement. With ``order_first`` (see ``orders_by_a_value``) the
    statement starts from the first ordering's index and keeps only the runs that have a
    value for it: those come first in the full ordering, so when they fill a page, it is the
    page. Reading the index in order lets the database stop at the page's end instead of
    sorting every match."""
    # build_query refuses this already; a RunQuery built by hand must not reach SQLite's
    # 64-table join limit either.
    if len(query.filters) + len(query.order_by) > MAX_SEARCH_TERMS:
        raise too_many_terms()
    statement = select(runs.c.id)
    ordering: list[ColumnElement[Any]] = []
    orders = list(enumerate(query.order_by))
    if order_first:
        index, first = orders.pop(0)
        table = _TABLES[first.field.kind].alias(f"o{index}")
        statement = (
            statement.select_from(table)
            .join(runs, runs.c.id == table.c.run_id)
            .where(table.c.key == first.field.key, table.c.value.is_not(None))
        )
        ordering.append(table.c.value.asc() if first.ascending else table.c.value.desc())
    statement = statement.where(
        runs.c.workspace_id == scope.workspace, runs.c.experiment_id.in_(query.experiment_ids)
    )
    if not query.include_deleted:
        active_experiments = select(experiments.c.id).where(experiments.c.lifecycle == "active")
        statement = statement.where(
            runs.c.lifecycle == "active", runs.c.experiment_id.in_(active_experiments)
        )
    for index, comparison in enumerate(query.filters):
        column, statement = _column(
            statement,
            comparison.field,
            f"f{index}",
            outer=comparison.op == "IS NULL",  # keeps the runs the join finds nothing for
            presence=comparison.op in NULL_OPS,
        )
        statement = statement.where(_condition(column, comparison))
    for index, order in orders:
        column, statement = _column(statement, order.field, f"o{index}", outer=True)
        ordering.append(_direction(column, order))
    ordering += [runs.c.start_time.desc(), runs.c.id]
    return statement.order_by(*ordering)


def _column(
    statement: Select[Any], target: Field, alias: str, *, outer: bool, presence: bool = False
) -> tuple[ColumnElement[Any], Select[Any]]:
    """The field's column, joined in; with ``presence``, one that is NULL exactly when the
    run lacks the field: the joined row's run id, as a NaN metric is stored as a NULL value."""
    if target.kind is FieldKind.ATTRIBUTE:
        return _ATTRIBUTE_COLUMNS[target.key], statement
    table = _TABLES[target.kind].alias(alias)
    on = and_(table.c.run_id == runs.c.id, table.c.key == target.key)
    column = table.c.run_id if presence else table.c.value
    return column, statement.join_from(runs, table, on, isouter=outer)


def _condition(column: ColumnElement[Any], comparison: Comparison) -> ColumnElement[bool]:
    op, value = comparison.op, comparison.value
    if op == "IS NULL":
        return column.is_(None)
    if op == "IS NOT NULL":
        return column.is_not(None)
    if op == "IN":
        return column.in_(value)
    if op == "NOT IN":
        return not_(column.in_(value))
    if op == "LIKE":
        return column.like(value)
    if op == "ILIKE":
        return func.lower(column).like(func.lower(value))
    comparisons: dict[str, ColumnElement[bool]] = {
        "=": column == value,
        "!=": column != value,
        "<": column < value,
        "<=": column <= value,
        ">": column > value,
        ">=": column >= value,
    }
    return comparisons[op]


def _direction(column: ColumnElement[Any], order: OrderBy) -> ColumnElement[Any]:
    return column.asc().nulls_last() if order.ascending else column.desc().nulls_last()
