"""Checking a table against a dataset's schema: each anomaly with its count and examples.

A library function (``validate``) that ``gnomon data validate``, pipelines and the model
server share. It runs Arrow compute kernels over whole columns: no Python loop over rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from gnomon.data.schema import NUMERIC, ColumnSchema, DatasetSchema, logical_type, plain
from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

EXAMPLES = 5  # values (or row numbers) an anomaly shows
MIN_ROWS_FOR_SHIFT = 30  # fewer rows say nothing about a distribution
MAX_EXAMPLE_CHARS = 80


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How far a batch may drift from the schema before it is an anomaly."""

    null_rate: float = 0.1  # absolute change of a column's share of nulls
    numeric_shift: float = 0.5  # median moved by this many interquartile ranges
    category_shift: float = 0.2  # total variation distance of category shares
    # Inferred bounds are the sample's extremes: a new sample of the same data steps past
    # them. They widen by this share of their span on each side (bounds a person set don't).
    range_margin: float = 0.1

    def __post_init__(self) -> None:
        for name in ("null_rate", "numeric_shift", "category_shift", "range_margin"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (0 <= value <= 100 and (value > 0 or name == "range_margin"))
            ):
                raise InvalidInput(f"threshold {name} must be a number above 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class Anomaly:
    kind: str  # missing_column, extra_column, type_mismatch, null_values, out_of_range,
    #            unseen_category, null_rate_change, distribution_change
    column: str
    count: int
    message: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ValidationReport:
    rows: int
    anomalies: tuple[Anomaly, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.anomalies

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "ok": self.ok, "anomalies": [asdict(a) for a in self.anomalies]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        anomalies = tuple(
            Anomaly(**{**a, "examples": tuple(a.get("examples", ()))}) for a in data["anomalies"]
        )
        return cls(int(data["rows"]), anomalies)


def validate(
    data: Any, schema: DatasetSchema, thresholds: Thresholds | None = None
) -> ValidationReport:
    """Check ``data`` (an Arrow table, or a pandas or Polars DataFrame) against ``schema``."""
    from gnomon.data.frames import to_arrow

    table = to_arrow(data)
    return validate_columns(table.column_names, table.num_rows, table.column, schema, thresholds)


def validate_columns(
    names: Sequence[str],
    rows: int,
    column: Callable[[str], pa.ChunkedArray],
    schema: DatasetSchema,
    thresholds: Thresholds | None = None,
) -> ValidationReport:
    """``validate`` over columns read one at a time by ``column(name)``."""
    thresholds = thresholds or Thresholds()
    anomalies: list[Anomaly] = []
    present = set(names)
    for expected in schema.columns:
        if expected.name not in present:
            anomalies.append(
                Anomaly(
                    "missing_column", expected.name, rows, f"column {expected.name!r} is missing"
                )
            )
            continue
        anomalies.extend(_check_column(expected, column(expected.name), rows, thresholds))
    known = {expected.name for expected in schema.columns}
    for name in names:
        if name not in known:
            anomalies.append(
                Anomaly("extra_column", name, rows, f"column {name!r} is not in the schema")
            )
    return ValidationReport(rows, tuple(anomalies))


def _check_column(
    column: ColumnSchema, values: pa.ChunkedArray, rows: int, thresholds: Thresholds
) -> list[Anomaly]:
    import pyarrow.compute as pc

    values = plain(values)
    found = logical_type(values.type)
    if not _compatible(column.type, found):
        sample = pc.unique(values.drop_null()).slice(0, EXAMPLES).to_pylist()
        return [
            Anomaly(
                "type_mismatch",
                column.name,
                rows - values.null_count,
                f"column {column.name!r} holds {found} values; the schema says {column.type}",
                _shown(sample),
            )
        ]
    out: list[Anomaly] = []
    nulls = values.null_count
    if nulls and not column.nullable:
        where = pc.indices_nonzero(pc.is_null(values)).slice(0, EXAMPLES).to_pylist()
        out.append(
            Anomaly(
                "null_values",
                column.name,
                nulls,
                f"{nulls:,} nulls in column {column.name!r}, which the schema says has none",
                tuple(f"row {index}" for index in where),
            )
        )
    if rows and abs(nulls / rows - column.null_fraction) > thresholds.null_rate:
        out.append(
            Anomaly(
                "null_rate_change",
                column.name,
                nulls,
                f"column {column.name!r} is {nulls / rows:.1%} null; the schema's data was "
                f"{column.null_fraction:.1%}",
            )
        )
    if found == "null":
        return out
    if column.type in NUMERIC:
        out.extend(_range(column, pc.cast(values, "float64"), thresholds))
        out.extend(_numeric_shift(column, values, thresholds))
    if column.categories and column.type in ("string", "boolean"):
        out.extend(_categories(column, values, thresholds))
    return out


def _compatible(expected: str, found: str) -> bool:
    return expected == found or found == "null" or (expected == "float" and found == "integer")


def _range(column: ColumnSchema, values: pa.ChunkedArray, thresholds: Thresholds) -> list[Anomaly]:
    import pyarrow.compute as pc

    low = column.min if isinstance(column.min, int | float) else None
    high = column.max if isinstance(column.max, int | float) else None
    if low is None and high is None:
        return []
    if low is not None and high is not None:
        margin = (high - low) * thresholds.range_margin
        low = low if "min" in column.edited else low - margin
        high = high if "max" in column.edited else high + margin
    outside = None
    if low is not None:
        outside = pc.less(values, low)
    if high is not None:
        above = pc.greater(values, high)
        outside = above if outside is None else pc.or_(outside, above)
    assert outside is not None
    count = pc.sum(outside).as_py() or 0
    if not count:
        return []
    examples = pc.filter(values, outside).slice(0, EXAMPLES).to_pylist()
    return [
        Anomaly(
            "out_of_range",
            column.name,
            count,
            f"{count:,} values of column {column.name!r} are outside "
            f"[{_g(low, '-inf')}, {_g(high, 'inf')}]",
            _shown(examples),
        )
    ]


def _numeric_shift(
    column: ColumnSchema, values: pa.ChunkedArray, thresholds: Thresholds
) -> list[Anomaly]:
    import pyarrow.compute as pc

    reference = column.quantiles or {}
    if len(values) - values.null_count < MIN_ROWS_FOR_SHIFT or "p50" not in reference:
        return []
    p25, p50, p75 = (reference.get(key) for key in ("p25", "p50", "p75"))
    if p25 is None or p50 is None or p75 is None:
        return []
    median = pc.tdigest(pc.cast(values, "float64"), q=0.5).to_pylist()[0]
    spread = p75 - p25 or abs(p50) or 1.0
    moved = abs(median - p50) / spread
    if not math.isfinite(moved) or moved <= thresholds.numeric_shift:
        return []
    return [
        Anomaly(
            "distribution_change",
            column.name,
            len(values) - values.null_count,
            f"the median of column {column.name!r} moved from {p50:.6g} to {median:.6g}, "
            f"{moved:.2f} interquartile ranges (threshold {thresholds.numeric_shift})",
        )
    ]


def _categories(
    column: ColumnSchema, values: pa.ChunkedArray, thresholds: Thresholds
) -> list[Anomaly]:
    import pyarrow as pa
    import pyarrow.compute as pc

    known = column.categories or {}
    text = pc.cast(values, pa.string())
    unseen = pc.and_(pc.invert(pc.is_in(text, value_set=pa.array(list(known)))), pc.is_valid(text))
    out: list[Anomaly] = []
    count = pc.sum(unseen).as_py() or 0
    if count:
        examples = pc.unique(pc.filter(text, unseen)).slice(0, EXAMPLES).to_pylist()
        out.append(
            Anomaly(
                "unseen_category",
                column.name,
                count,
                f"{count:,} values of column {column.name!r} are not among its "
                f"{len(known)} categories",
                _shown(examples),
            )
        )
    present = len(text) - text.null_count
    if present >= MIN_ROWS_FOR_SHIFT:
        shares = {
            str(entry["values"]): entry["counts"] / present
            for entry in pc.value_counts(text.drop_null()).to_pylist()
        }
        distance = 0.5 * sum(
            abs(shares.get(name, 0.0) - known.get(name, 0.0)) for name in set(shares) | set(known)
        )
        if distance > thresholds.category_shift:
            out.append(
                Anomaly(
                    "distribution_change",
                    column.name,
                    present,
                    f"the category shares of column {column.name!r} moved by {distance:.2f} "
                    f"(total variation; threshold {thresholds.category_shift})",
                )
            )
    return out


def _shown(values: list[Any]) -> tuple[str, ...]:
    return tuple(repr(value)[:MAX_EXAMPLE_CHARS] for value in values)


def _g(bound: float | None, unbounded: str) -> str:
    return unbounded if bound is None else f"{bound:.6g}"
