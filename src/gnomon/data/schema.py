"""A table's schema, inferred from its data and then owned by people: per column its type,
nullability, range, quantiles, categorical domain (with frequencies) and uniqueness.

Inference runs Arrow compute kernels column by column (no Python loop over rows): one
column of a Parquet version is read at a time, a CSV version is read once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
CATEGORICAL_LIMIT = 50  # at most this many distinct values make a text column categorical
MAX_CATEGORY_CHARS = 200
NUMERIC = ("integer", "float")
ORDERED = ("integer", "float", "timestamp", "date")


@dataclass(frozen=True, slots=True)
class ColumnSchema:
    """One column. ``min``/``max`` bound the values (numbers; ISO text for times);
    ``categories`` is the domain of a categorical column, value -> share of the rows."""

    name: str
    type: str  # integer, float, boolean, string, timestamp, date, binary, other
    arrow_type: str
    nullable: bool
    null_fraction: float = 0.0
    min: float | str | None = None
    max: float | str | None = None
    quantiles: dict[str, float] | None = None  # "p01" ... "p99"
    categories: dict[str, float] | None = None
    unique: bool = False
    distinct: int = 0
    edited: tuple[str, ...] = ()  # the fields a person set: they apply exactly


@dataclass(frozen=True, slots=True)
class DatasetSchema:
    columns: tuple[ColumnSchema, ...]
    rows: int = 0
    categorical_limit: int = CATEGORICAL_LIMIT
    ranges: bool = True  # False: inferred from too few rows to trust ranges (see contracts)
    edited_by: str = ""  # who last changed it by hand ("" while only inferred)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def column(self, name: str) -> ColumnSchema:
        for column in self.columns:
            if column.name == name:
                return column
        raise InvalidInput(f"the schema has no column {name!r}", {"column": name})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetSchema:
        try:
            columns = tuple(
                ColumnSchema(**{**column, "edited": tuple(column.get("edited", ()))})
                for column in data["columns"]
            )
            rest = {k: v for k, v in data.items() if k != "columns"}
            rest["notes"] = tuple(rest.get("notes", ()))
            return cls(columns=columns, **rest)
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"not a dataset schema: {exc}") from None


def logical_type(arrow_type: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_null(arrow_type):
        return "null"  # no value at all: fits any column, as nulls
    if pa.types.is_dictionary(arrow_type):
        return logical_type(arrow_type.value_type)
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "float"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return "binary"
    return "other"


def infer(
    columns: Iterable[tuple[str, pa.ChunkedArray]],
    rows: int,
    categorical_limit: int = CATEGORICAL_LIMIT,
) -> DatasetSchema:
    """The schema of a table given as ``(name, column)`` pairs of ``rows`` rows each."""
    inferred = tuple(
        infer_column(name, values, rows, categorical_limit) for name, values in columns
    )
    return DatasetSchema(inferred, rows, categorical_limit)


def plain(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """A dictionary-encoded column (pandas' category) as its values: most kernels have no
    dictionary variant."""
    import pyarrow as pa

    if pa.types.is_dictionary(values.type):
        return values.cast(values.type.value_type)
    return values


def infer_column(
    name: str, values: pa.ChunkedArray, rows: int, categorical_limit: int = CATEGORICAL_LIMIT
) -> ColumnSchema:
    import pyarrow.compute as pc

    values = plain(values)
    kind = logical_type(values.type)
    nulls = values.null_count
    present = rows - nulls
    column = ColumnSchema(
        name=name,
        type=kind,
        arrow_type=str(values.type),
        nullable=nulls > 0,
        null_fraction=nulls / rows if rows else 0.0,
    )
    if present == 0:
        return column
    if kind in NUMERIC:
        return _numeric(column, values, present)
    distinct = pc.count_distinct(values, mode="only_valid").as_py() if kind != "other" else 0
    column = replace(column, unique=distinct == present, distinct=distinct)
    if kind in ORDERED:
        low, high = (pc.min_max(values)[key].as_py() for key in ("min", "max"))
        column = replace(column, min=_bound(low), max=_bound(high))
    if kind in ("string", "boolean") and distinct <= categorical_limit:
        text = pc.cast(values.drop_null() if nulls else values, "string")  # as validation reads
        counts = pc.value_counts(text)
        column = replace(
            column,
            categories={
                str(entry["values"])[:MAX_CATEGORY_CHARS]: entry["counts"] / present
                for entry in counts.to_pylist()
            },
        )
    return column


def _numeric(column: ColumnSchema, values: pa.ChunkedArray, present: int) -> ColumnSchema:
    """One sort gives distinct values, bounds and exact quantiles: a hash-based distinct
    count of a million floats costs three times the sort."""
    import numpy as np
    import pyarrow.compute as pc

    if column.type == "integer":  # as they are: a float64 would merge ids past 2**53
        data = np.sort(values.drop_null().to_numpy())
    else:
        data = pc.cast(values.drop_null(), "float64").to_numpy()
        data = np.sort(data[~np.isnan(data)])  # NaN is no value, as pandas and the checks read
    if data.size == 0:
        return column
    distinct = 1 + int(np.count_nonzero(data[1:] != data[:-1]))
    cuts = np.quantile(data, QUANTILES)
    return replace(
        column,
        unique=distinct == present,
        distinct=distinct,
        min=_bound(float(data[0])),
        max=_bound(float(data[-1])),
        quantiles={_label(q): _finite(float(v)) for q, v in zip(QUANTILES, cuts, strict=True)},
    )


def columns_of(table: pa.Table) -> Iterator[tuple[str, pa.ChunkedArray]]:
    for name in table.column_names:
        yield name, table.column(name)


def _label(q: float) -> str:
    return f"p{round(q * 100):02d}"


def _bound(value: object) -> float | str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return _finite(float(value))
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def edited(
    schema: DatasetSchema, column: str, changes: Mapping[str, Any], who: str
) -> DatasetSchema:
    """``schema`` with ``column`` changed (``nullable``, ``min``, ``max``, ``categories``,
    ``unique``); a change that contradicts the column's type is refused.

    Raises:
        InvalidInput: an unknown column or field, or a value its type cannot hold.
    """
    current = schema.column(column)
    allowed = {"nullable", "min", "max", "categories", "unique"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(
            f"a schema edit changes {sorted(allowed)}, not {sorted(unknown)}", {"column": column}
        )
    values = dict(changes)
    for bound in ("min", "max"):
        if bound in values and values[bound] is not None:
            values[bound] = _checked_bound(current, bound, values[bound])
    if "categories" in values and values["categories"] is not None:
        values["categories"] = _checked_categories(current, values["categories"])
    for flag in ("nullable", "unique"):
        if flag in values and not isinstance(values[flag], bool):
            raise InvalidInput(f"{flag} of column {column!r} is true or false", {"column": column})
    changed = replace(current, **values, edited=tuple(sorted({*current.edited, *values})))
    low, high = changed.min, changed.max
    if low is not None and high is not None and type(low) is type(high) and low > high:  # type: ignore[operator]
        raise InvalidInput(f"column {column!r}: min {low} is above max {high}", {"column": column})
    columns = tuple(changed if c.name == column else c for c in schema.columns)
    return replace(schema, columns=columns, edited_by=who)


def _checked_bound(column: ColumnSchema, bound: str, value: object) -> float | str:
    if column.type in NUMERIC:
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(value, bool) or not math.isfinite(number):
            raise InvalidInput(
                f"column {column.name!r} is {column.type}: its {bound} must be a finite number, "
                f"got {value!r}",
                {"column": column.name},
            )
        return number
    if column.type in ("timestamp", "date"):
        from datetime import datetime

        try:
            return datetime.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise InvalidInput(
                f"column {column.name!r} is a {column.type}: its {bound} must be an ISO date "
                f"or time, got {value!r}",
                {"column": column.name},
            ) from None
    raise InvalidInput(
        f"column {column.name!r} is {column.type}: it has no {bound}", {"column": column.name}
    )


def _checked_categories(column: ColumnSchema, value: object) -> dict[str, float]:
    if column.type not in ("string", "boolean"):
        raise InvalidInput(
            f"column {column.name!r} is {column.type}: categories are for text and booleans",
            {"column": column.name},
        )
    if isinstance(value, Mapping | list | tuple | set):
        names = list(value)
    else:
        raise InvalidInput(f"categories of {column.name!r} are a list of values")
    if not names or not all(isinstance(n, str) and 0 < len(n) <= MAX_CATEGORY_CHARS for n in names):
        raise InvalidInput(
            f"categories of {column.name!r} are 1 or more texts of at most {MAX_CATEGORY_CHARS} "
            "characters",
            {"column": column.name},
        )
    known = column.categories or {}
    return {name: float(known.get(name, 0.0)) for name in names}
