"""Checking a request against the model's input contract, vectorised over the batch.

:func:`enforce` checks every column of a frame against its :class:`~gnomon.modelfolder.ColumnSpec`
with NumPy operations on the whole column (only the list of violations is built row by row,
over offending rows alone) and returns the frame cast to the contract's dtypes, in contract
order, with every :class:`Violation` found. What happens next is the deployment's
:class:`Policy`:

- ``reject`` (the default): the caller passes the violations to :func:`raise_for`, which raises
  one :class:`~gnomon.errors.InvalidInput` (422) listing every offending row and column.
- ``warn``: the caller predicts on the returned frame and records the violations. A value that
  cannot be cast (``"abc"`` in a number column, ``1.5`` in an integer one) becomes null there,
  so an int64 column holding one turns float64 with NaN; out-of-range and unseen values stay.
- ``clip``: out-of-range numbers are clipped to ``[minimum, maximum]`` and not reported; every
  other violation still is, and the caller rejects those, since clipping only repairs ranges.

Casts: int64 and float64 become NumPy numbers, bool NumPy booleans (object with None where
null), category a pandas Categorical over the contract's categories, datetime datetime64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    from gnomon.modelfolder.contract import ColumnSpec, Contract

MAX_REPORTED: Final = 1000

_NUMERIC_INFERRED: Final = frozenset({"integer", "floating", "mixed-integer-float", "empty"})
# Kinds of Python values, as bit flags, so that one lookup per value answers every question.
_NUMBER, _BOOL, _STR, _DATE, _CONTAINER = 1, 2, 4, 8, 16
_KIND_OF_TYPE: Final[dict[type, int]] = {
    **dict.fromkeys((int, np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32), _NUMBER),
    **dict.fromkeys((float, np.float64, np.float32), _NUMBER),
    **dict.fromkeys((bool, np.bool_), _BOOL),
    str: _STR,
    **dict.fromkeys((pd.Timestamp, datetime, date), _DATE),
    **dict.fromkeys((list, dict), _CONTAINER),
}
_kind_of_type = np.frompyfunc(_KIND_OF_TYPE.get, 2, 1)
_INT64_LIMIT: Final = 2.0**63
_type_of = np.frompyfunc(type, 1, 1)


class Policy(StrEnum):
    """What a deployment does with a request that breaks the contract."""

    REJECT = "reject"
    WARN = "warn"
    CLIP = "clip"


@dataclass(frozen=True)
class Violation:
    """One value (or, with ``row == -1``, one column) that breaks the contract.

    ``problem`` is one of ``missing_column``, ``unknown_column``, ``wrong_type``,
    ``below_minimum``, ``above_maximum``, ``unseen_category``, ``null``; ``value`` is the value
    received, made JSON-safe (None for a null or a column-level problem).
    """

    row: int
    column: str
    problem: str
    expected: str
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "problem": self.problem,
            "expected": self.expected,
            "value": self.value,
        }


def enforce(
    frame: pd.DataFrame, contract: Contract, policy: Policy = Policy.REJECT
) -> tuple[pd.DataFrame, list[Violation]]:
    """Check ``frame`` against ``contract`` and cast it to the contract's dtypes.

    Rows are reported by position (0 for the first row), column-level problems with row -1;
    violations come ordered by row, then by contract column.

    Returns:
        The frame in contract column order (unknown columns dropped, missing ones all null),
        ready for ``LoadedModel.predict``, and every violation found. Under ``clip``,
        out-of-range values are clipped instead of reported.
    """
    return _plan_for(contract).apply(frame, Policy(policy))


def raise_for(violations: list[Violation]) -> None:
    """Raise one error listing ``violations``, if there are any.

    Raises:
        InvalidInput: with ``details["violations"]`` (the first 1000, as dicts),
            ``details["count"]`` and, past 1000, ``details["omitted"]``.
    """
    if not violations:
        return
    count = len(violations)
    first = violations[0]
    where = f"column '{first.column}'" + (f", row {first.row}" if first.row >= 0 else "")
    message = (
        f"input breaks the model's contract: {count} problem{'s' if count > 1 else ''}; "
        f"first: {where}: {first.problem}, expected {first.expected}, got {first.value!r}"
    )
    details: dict[str, Any] = {
        "violations": [v.to_dict() for v in violations[:MAX_REPORTED]],
        "count": count,
    }
    if count > MAX_REPORTED:
        details["omitted"] = count - MAX_REPORTED
    raise InvalidInput(message, details)


class _Checked(NamedTuple):
    received: Any  # the column as it came, for reporting values
    values: Any  # the cast column: an ndarray or a pandas extension array
    null: np.ndarray[Any, Any]
    problems: list[tuple[str, np.ndarray[Any, Any]]]


class _Column:
    """A ColumnSpec compiled once per contract: bounds, expected texts, category lookup."""

    def __init__(self, spec: ColumnSpec) -> None:
        self.name = spec.name
        self.dtype = spec.dtype
        self.nullable = spec.nullable
        self.lo, self.hi = spec.minimum, spec.maximum
        self.described = _describe(spec)
        categories = list(dict.fromkeys(spec.categories or []))
        lookup = {value: code for code, value in enumerate(categories)}
        self.code_of = np.frompyfunc(lookup.get, 2, 1)
        self.category_dtype = pd.CategoricalDtype(categories)

    def check(self, raw: Any, policy: Policy) -> _Checked:
        if self.dtype == "string" and isinstance(raw.dtype, pd.StringDtype):
            # pandas' string arrays hold only strings; converting them costs more than the rest
            return _Checked(raw, raw, np.asarray(raw.isna()), [])
        return _CHECKS[self.dtype](self, np.asarray(raw), raw, policy)

    def expected(self, problem: str) -> str:
        if problem == "wrong_type":
            return _TYPE_TEXT.get(self.dtype, self.described)
        if problem == "null":
            return f"a non-null {self.dtype}"
        return self.described


class _Plan:
    def __init__(self, contract: Contract) -> None:
        self.columns = [_Column(spec) for spec in contract.inputs]
        self.names = [c.name for c in self.columns]
        self.index = pd.Index(self.names)

    def apply(self, frame: pd.DataFrame, policy: Policy) -> tuple[pd.DataFrame, list[Violation]]:
        given = {str(name): i for i, name in enumerate(frame.columns)}
        raws = _column_arrays(frame)
        violations = [
            Violation(-1, name, "unknown_column", f"a column in {self.names}")
            for name in given
            if name not in self.index
        ]
        out = []
        for column in self.columns:
            position = given.get(column.name)
            if position is None:
                violations.append(Violation(-1, column.name, "missing_column", column.described))
                out.append(_all_null(column, len(frame), policy))
                continue
            checked = column.check(raws[position], policy)
            violations.extend(_violations(column, checked))
            out.append(checked.values)
        violations.sort(key=lambda v: v.row)
        return _frame_of(out, self.index, frame.index), violations


def _all_null(column: _Column, rows: int, policy: Policy) -> Any:
    return column.check(np.full(rows, None, dtype=object), policy).values


def _violations(column: _Column, checked: _Checked) -> list[Violation]:
    problems = list(checked.problems)
    if not column.nullable:
        problems.append(("null", checked.null))
    found: list[Violation] = []
    for problem, mask in problems:
        if not _some(mask):
            continue
        expected = column.expected(problem)
        found.extend(
            Violation(row, column.name, problem, expected, _plain(checked.received[row]))
            for row in np.flatnonzero(mask).tolist()
        )
    return found


def _numbers(column: _Column, values: np.ndarray[Any, Any], raw: Any, policy: Policy) -> _Checked:
    integer = column.dtype == "int64"
    x, null, wrong = _as_float(values)
    if integer and values.dtype.kind not in "iu":
        whole = np.isfinite(x) & (x == np.trunc(x)) & (np.abs(x) < _INT64_LIMIT)
        wrong = wrong | (~null & ~wrong & ~whole)
        x = np.where(wrong, np.nan, x)
    problems = [("wrong_type", wrong)]
    lo, hi = column.lo, column.hi
    if policy is Policy.CLIP and (lo is not None or hi is not None):
        x = _clip(x, lo, hi, integer)
    else:
        if lo is not None:
            problems.append(("below_minimum", x < lo))
        if hi is not None:
            problems.append(("above_maximum", x > hi))
    keep_int = integer and not (_some(null) or _some(wrong))
    cast = x.astype(np.int64 if keep_int else np.float64, copy=False)
    return _Checked(values, cast, null, problems)


def _as_float(values: np.ndarray[Any, Any]) -> tuple[Any, Any, Any]:
    """The column as numbers (int arrays kept), its nulls, and the values that are not numbers."""
    kind = values.dtype.kind
    none = np.zeros(len(values), dtype=bool)
    if kind in "iu":
        return values, none, none
    if kind == "f":
        return values, np.isnan(values), none
    null = pd.isna(values)
    if kind == "O" and infer_dtype(values, skipna=True) in _NUMERIC_INFERRED:
        wrong = none
    elif kind == "O":
        wrong = ~_is_kind(values, _NUMBER) & ~null
    else:  # booleans, datetimes, bytes: never a number
        wrong = ~null
    x = np.where(null | wrong, np.nan, values).astype(np.float64)
    return x, null, wrong


def _clip(x: Any, lo: float | None, hi: float | None, integer: bool) -> Any:
    if integer:  # stay inside the bounds after the cast back to int64
        lo = None if lo is None else math.ceil(lo)
        hi = None if hi is None else math.floor(hi)
    return np.clip(x, lo, hi)


def _booleans(column: _Column, values: np.ndarray[Any, Any], raw: Any, policy: Policy) -> _Checked:
    null = pd.isna(values)
    kind = values.dtype.kind
    if kind == "b" or (kind == "O" and infer_dtype(values, skipna=True) in ("boolean", "empty")):
        wrong = np.zeros(len(values), dtype=bool)
    elif kind == "O":
        wrong = ~_is_kind(values, _BOOL) & ~null
    else:
        wrong = ~null
    if _some(null) or _some(wrong):
        cast = np.where(null | wrong, np.array(None), values.astype(object))
    else:
        cast = values.astype(bool, copy=False)
    return _Checked(values, cast, null, [("wrong_type", wrong)])


def _strings(column: _Column, values: np.ndarray[Any, Any], raw: Any, policy: Policy) -> _Checked:
    null = pd.isna(values)
    wrong = ~_is_str(values) & ~null
    if values.dtype.kind == "O" and not _some(wrong):
        return _Checked(values, raw, null, [("wrong_type", wrong)])
    cast = np.where(wrong | null, np.nan, values.astype(object))
    return _Checked(values, cast, null, [("wrong_type", wrong)])


def _categories(
    column: _Column, values: np.ndarray[Any, Any], raw: Any, policy: Policy
) -> _Checked:
    null = pd.isna(values)
    codes = _codes(column, values)
    unknown = (codes < 0) & ~null
    is_str = _is_str(values)
    cast = pd.Categorical.from_codes(codes, dtype=column.category_dtype, validate=False)
    problems = [("wrong_type", unknown & ~is_str), ("unseen_category", unknown & is_str)]
    return _Checked(values, cast, null, problems)


def _codes(column: _Column, values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    objects = values.astype(object, copy=False)
    try:
        return np.asarray(column.code_of(objects, -1), dtype=np.int64)
    except TypeError:  # an unhashable value (a list or object from JSON) is never a category
        hashable = ~_is_kind(objects, _CONTAINER)
        codes = np.full(len(values), -1, dtype=np.int64)
        codes[hashable] = column.code_of(objects[hashable], -1)
        return codes


def _datetimes(column: _Column, values: np.ndarray[Any, Any], raw: Any, policy: Policy) -> _Checked:
    null = pd.isna(values)
    if values.dtype.kind == "M":
        return _Checked(values, raw, null, [("wrong_type", np.zeros(len(values), dtype=bool))])
    readable = ~null
    if values.dtype.kind == "O":
        readable &= _is_kind(values, _STR | _DATE)
    else:  # numbers are not dates: an epoch's unit would be a guess
        readable &= False
    candidates = np.where(readable, values, np.array(None))
    try:
        parsed = pd.to_datetime(candidates, errors="coerce", format="ISO8601")
    except (TypeError, ValueError):  # mixed UTC offsets: compare them as UTC instants
        parsed = pd.to_datetime(candidates, errors="coerce", format="ISO8601", utc=True)
    wrong = ~null & np.asarray(parsed.isna())
    return _Checked(values, parsed.array, null, [("wrong_type", wrong)])


_CHECKS: Final = {
    "int64": _numbers,
    "float64": _numbers,
    "bool": _booleans,
    "string": _strings,
    "category": _categories,
    "datetime": _datetimes,
}

_TYPE_TEXT: Final = {
    "int64": "an integer",
    "float64": "a number",
    "bool": "a boolean",
    "string": "a string",
    "datetime": "an ISO 8601 date or datetime",
}


def _some(mask: np.ndarray[Any, Any]) -> bool:
    return bool(np.count_nonzero(mask))  # a C call; ndarray.any() goes through Python


def _is_str(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    if values.dtype.kind != "O":
        return np.zeros(len(values), dtype=bool)
    if infer_dtype(values, skipna=True) == "string":  # one C pass; the common case
        found: np.ndarray[Any, Any] = ~pd.isna(values)
        return found
    return _is_kind(values, _STR)


def _is_kind(values: np.ndarray[Any, Any], kinds: int) -> np.ndarray[Any, Any]:
    """Which values are exactly of one of ``kinds`` (so True is not taken for an int)."""
    codes = np.asarray(_kind_of_type(_type_of(values), 0), dtype=np.int8)
    found: np.ndarray[Any, Any] = (codes & kinds) != 0
    return found


def _describe(spec: ColumnSpec) -> str:
    if spec.categories is not None:
        return f"one of {spec.categories}"
    lo, hi = spec.minimum, spec.maximum
    if lo is not None and hi is not None:
        return f"{spec.dtype} in [{lo}, {hi}]"
    if lo is not None:
        return f"{spec.dtype} >= {lo}"
    if hi is not None:
        return f"{spec.dtype} <= {hi}"
    return spec.dtype


def _plain(value: Any) -> Any:
    """A received value as JSON can carry it."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if isinstance(value, str | int | float | bool | list | dict):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _column_arrays(frame: pd.DataFrame) -> list[Any]:
    # Why the private iterator: building a Series per column costs ~10 µs each, more than all
    # the checks on a one-row request; fall back to the public path if pandas drops it.
    arrays = getattr(frame, "_iter_column_arrays", None)
    if arrays is None:
        return [series.array for _, series in frame.items()]
    return list(arrays())


def _frame_of(arrays: list[Any], columns: pd.Index, index: pd.Index) -> pd.DataFrame:
    # Same reason: the public constructor re-validates every array (~250 µs for 20 columns);
    # these arrays are already 1-D and of the frame's length.
    build = getattr(pd.DataFrame, "_from_arrays", None)
    if build is None:
        return pd.DataFrame(dict(zip(columns, arrays, strict=True)), index=index)
    return build(arrays, columns=columns, index=index, verify_integrity=False)


_PLANS: dict[int, tuple[Contract, _Plan]] = {}
_MAX_PLANS: Final = 256


def _plan_for(contract: Contract) -> _Plan:
    # A contract holds lists, so it is not hashable; keyed by id, the cached contract is kept
    # alive so that its id cannot be reused by another one.
    cached = _PLANS.get(id(contract))
    if cached is not None and cached[0] is contract:
        return cached[1]
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    plan = _Plan(contract)
    _PLANS[id(contract)] = (contract, plan)
    return plan


__all__ = ["MAX_REPORTED", "Policy", "Violation", "enforce", "raise_for"]
