"""Columns as the drift tests take them, and the reference prepared once for many windows.

A numeric column becomes its finite values, sorted, as float64 (nulls, NaN and ±inf dropped
and counted); a categorical column becomes its distinct non-null values with their counts.
The ``Reference`` keeps, per column, what every comparison reuses: the sorted values, the
standard deviation and the histogram edges, or the category counts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

import numpy as np
import pyarrow as pa

from gnomon.errors import InvalidInput
from gnomon.monitoring.drift_config import KINDS, ColumnKind
from gnomon.monitoring.histograms import reference_bins

# name -> array-like (NumPy, sequence, pandas, Arrow), or a table
Columns: TypeAlias = Mapping[str, Any] | pa.Table
_CONVERSION_ERRORS = (TypeError, ValueError, NotImplementedError, pa.ArrowException)
_STRINGS = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)


@dataclass(frozen=True, slots=True)
class NumericSample:
    values: np.ndarray  # finite float64, ascending
    nulls: int

    @property
    def size(self) -> int:
        return int(self.values.size)


@dataclass(frozen=True, slots=True)
class CategoricalSample:
    values: pa.Array  # distinct, non-null
    counts: np.ndarray  # int64, one per value
    nulls: int

    @property
    def size(self) -> int:
        return int(self.counts.sum())


def column_items(columns: Columns) -> list[tuple[str, Any]]:
    """``(name, values)`` of a mapping or a pyarrow Table.

    Raises:
        InvalidInput: neither.
    """
    if isinstance(columns, pa.Table):
        return list(zip(columns.column_names, columns.columns, strict=True))
    if isinstance(columns, Mapping):
        return [(str(name), values) for name, values in columns.items()]
    raise InvalidInput(
        f"columns must be a mapping of name to values or a pyarrow Table, not {type(columns)!r}"
    )


def infer_kind(values: Any) -> ColumnKind:
    """Numeric for integer, floating and decimal types (booleans excluded), else categorical."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        kind = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
        numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        return "numeric" if numeric or pa.types.is_decimal(kind) else "categorical"
    dtype = np.asarray(values).dtype
    return "numeric" if dtype.kind in "iuf" else "categorical"


def _primitive(array: pa.Array, dtype: type[np.generic]) -> np.ndarray:
    """A fixed-width Arrow array's value slots as a NumPy view (a null's slot is garbage).
    Read from the buffers: pyarrow's ``to_numpy`` imports pandas, 0.2 s at a monitor's start."""
    data = array.buffers()[1]
    if pa.types.is_boolean(array.type):
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
        return bits[array.offset : array.offset + len(array)].astype(bool)
    return np.frombuffer(data, dtype=dtype)[array.offset : array.offset + len(array)]


def _valid(array: pa.Array) -> np.ndarray | None:
    """Which slots hold a value; ``None`` when all do."""
    if array.null_count == 0:
        return None
    if array.null_count == len(array):
        return np.zeros(len(array), dtype=bool)
    bits = np.unpackbits(np.frombuffer(array.buffers()[0], dtype=np.uint8), bitorder="little")
    return bits[array.offset : array.offset + len(array)].astype(bool)


def _arrow_floats(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The non-null values as float64 (a view where the column already is float64)."""
    parts = []
    for chunk in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
        if pa.types.is_dictionary(chunk.type):
            chunk = chunk.dictionary_decode()
        if not pa.types.is_float64(chunk.type):
            chunk = chunk.cast(pa.float64())
        valid = _valid(chunk)
        if valid is None or valid.any():
            numbers = _primitive(chunk, np.float64)
            parts.append(numbers if valid is None else numbers[valid])
    return parts[0] if len(parts) == 1 else np.concatenate(parts or [np.empty(0)])


def _floats(values: Any) -> tuple[np.ndarray, int]:
    """The values as float64, Arrow's nulls dropped, and the length they had."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return _arrow_floats(values), len(values)
    array = np.asarray(values)
    if array.dtype == object:  # None among numbers
        return _arrow_floats(pa.array(array, from_pandas=True)), int(array.size)
    if array.ndim != 1:
        raise ValueError(f"{array.ndim} dimensions, not 1")
    return array.astype(np.float64, copy=False), int(array.size)


def numeric_sample(column: str, values: Any) -> NumericSample:
    """The column's finite values, sorted.

    Raises:
        InvalidInput: values that are not numbers.
    """
    try:
        array, length = _floats(values)
    except _CONVERSION_ERRORS as exc:
        raise InvalidInput(
            f"column {column!r} is numeric but its values are not numbers: {exc}",
            {"column": column},
        ) from None
    finite = np.isfinite(array)
    kept = array if finite.all() else array[finite]
    return NumericSample(np.sort(kept), length - int(kept.size))


def _arrow(values: Any) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values
    return pa.array(values, from_pandas=True)  # NaN and None as nulls


def categorical_sample(column: str, values: Any) -> CategoricalSample:
    """The column's distinct non-null values and their counts (a float NaN is a null).

    Raises:
        InvalidInput: values Arrow cannot hold in one column (mixed types).
    """
    import pyarrow.compute as pc

    try:
        array = _arrow(values)
    except _CONVERSION_ERRORS as exc:
        raise InvalidInput(
            f"column {column!r} holds values of mixed types: {exc}", {"column": column}
        ) from None
    counted = pc.value_counts(array)
    distinct, counts = counted.field("values"), counted.field("counts")
    if pa.types.is_dictionary(distinct.type):
        distinct = distinct.dictionary_decode()
    keep = distinct.is_valid()
    if pa.types.is_floating(distinct.type):
        keep = pc.and_(keep, pc.invert(pc.is_nan(distinct)))
    distinct, counts = distinct.filter(keep), counts.filter(keep)
    kept = _primitive(counts, np.int64).astype(np.int64)
    return CategoricalSample(distinct, kept, int(len(array) - kept.sum()))


@dataclass(frozen=True, slots=True)
class NumericReference:
    kind: ClassVar[ColumnKind] = "numeric"
    sample: NumericSample
    std: float  # population standard deviation (ddof 0), 0.0 when empty
    inner_edges: np.ndarray  # the histogram's edges inside the reference's range
    bin_counts: np.ndarray  # the reference's counts in those bins

    @classmethod
    def prepare(cls, column: str, values: Any) -> NumericReference:
        sample = numeric_sample(column, values)
        std = float(np.std(sample.values)) if sample.size else 0.0
        return cls(sample, std, *reference_bins(sample.values))


@dataclass(frozen=True, slots=True)
class CategoricalReference:
    kind: ClassVar[ColumnKind] = "categorical"
    sample: CategoricalSample

    @classmethod
    def prepare(cls, column: str, values: Any) -> CategoricalReference:
        return cls(categorical_sample(column, values))

    def align(self, current: CategoricalSample) -> tuple[np.ndarray, np.ndarray, pa.Array]:
        """Reference and current counts over the reference's categories followed by the
        current's unseen ones (zero on the reference side), and those unseen values."""
        import pyarrow.compute as pc

        known = self.sample.values
        where = _positions(current.values, known)
        seen = _valid(where)
        seen = np.ones(len(where), dtype=bool) if seen is None else seen
        current_counts = np.zeros(len(known), dtype=np.int64)
        if seen.any():
            current_counts[_primitive(where, np.int32)[seen]] = current.counts[seen]
        unseen = current.counts[~seen]
        reference = np.concatenate((self.sample.counts, np.zeros(unseen.size, dtype=np.int64)))
        unseen_values = current.values.filter(pc.is_null(where))
        return reference, np.concatenate((current_counts, unseen)), unseen_values

    def labels(self, unseen: pa.Array, positions: np.ndarray) -> list[Any]:
        """The categories at ``positions`` of the vectors ``align`` made."""
        known = len(self.sample.values)
        return [
            (self.sample.values[p] if p < known else unseen[p - known]).as_py()
            for p in positions.tolist()
        ]


def _family(kind: pa.DataType) -> pa.DataType | None:
    """The type values of ``kind`` are compared as, across widths (int32 against int64)."""
    if pa.types.is_integer(kind):
        return pa.int64()
    if pa.types.is_floating(kind):
        return pa.float64()
    if any(test(kind) for test in _STRINGS):
        return pa.large_string()
    return None


def _positions(values: pa.Array, known: pa.Array) -> pa.Array:
    """Each value's position among ``known`` (null when absent); a number never matches a
    string, nor an integer a float."""
    import pyarrow.compute as pc

    if not values.type.equals(known.type):
        common = _family(values.type)
        if common is None or common != _family(known.type):
            return pa.nulls(len(values), pa.int32())
        try:
            values, known = values.cast(common), known.cast(common)
        except pa.ArrowInvalid:  # beyond int64: matches nothing the reference holds
            return pa.nulls(len(values), pa.int32())
    return pc.index_in(values, value_set=known)


PreparedColumn = NumericReference | CategoricalReference
_PREPARERS: dict[str, type[NumericReference] | type[CategoricalReference]] = {
    "numeric": NumericReference,
    "categorical": CategoricalReference,
}


class Reference:
    """Reference data prepared once and compared with many windows: per column its sorted
    finite values, standard deviation and histogram edges, or its category counts.

    Example:
        >>> reference = Reference.from_columns({"age": [31, 45, 27], "plan": ["a", "b", "a"]})
        >>> reference.kinds
        {'age': 'numeric', 'plan': 'categorical'}
    """

    __slots__ = ("_columns",)

    def __init__(self, columns: Mapping[str, PreparedColumn]) -> None:
        self._columns = dict(columns)

    @classmethod
    def from_columns(cls, columns: Columns, kinds: Mapping[str, str] | None = None) -> Reference:
        """Prepare ``columns`` (name to array-like, or a pyarrow Table). ``kinds`` names a
        column's kind; others are inferred: numeric for integer and floating types,
        categorical for strings, booleans and anything else.

        Raises:
            InvalidInput: an unknown kind, a kind for a column that is not there, or values
                that do not fit their kind.
        """
        items = column_items(columns)
        kinds = dict(kinds or {})
        missing = sorted(set(kinds) - {name for name, _ in items})
        if missing:
            raise InvalidInput(
                f"kinds name columns that are not there: {missing}", {"columns": missing}
            )
        prepared: dict[str, PreparedColumn] = {}
        for name, values in items:
            kind = kinds.get(name) or infer_kind(values)
            if kind not in KINDS:
                raise InvalidInput(
                    f"column {name!r}: unknown kind {kind!r}; expected one of {', '.join(KINDS)}",
                    {"column": name, "kind": kind},
                )
            prepared[name] = _PREPARERS[kind].prepare(name, values)
        return cls(prepared)

    @property
    def kinds(self) -> dict[str, ColumnKind]:
        return {name: column.kind for name, column in self._columns.items()}

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def column(self, name: str) -> PreparedColumn:
        """The prepared column ``name``.

        Raises:
            InvalidInput: no such column.
        """
        try:
            return self._columns[name]
        except KeyError:
            raise InvalidInput(f"the reference has no column {name!r}", {"column": name}) from None
