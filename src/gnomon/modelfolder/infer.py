"""Inferring a contract from training data and predictions."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gnomon.modelfolder.contract import DEFAULT_MARGIN, MAX_CATEGORIES, ColumnSpec, Contract

if TYPE_CHECKING:
    import pandas as pd


def infer_contract(data: Any, margin: float = DEFAULT_MARGIN) -> Contract:
    """Infer the input contract from example data.

    Numeric bounds are the observed min/max widened by ``margin`` times the range on each side
    (integers round outwards); text columns with at most 50 distinct values become categories;
    a column is nullable when the example has a null in it.

    Args:
        data: a DataFrame, dict of columns, list of records or 2-D NumPy array.
        margin: the share of the observed range added below the minimum and above the maximum.

    Raises:
        InvalidInput: the data cannot be read as a table, or ``margin`` is negative.
    """
    from gnomon.errors import InvalidInput
    from gnomon.modelfolder.inputs import to_frame

    if margin < 0:
        raise InvalidInput(f"margin must be at least 0, got {margin}")
    frame = to_frame(data)
    return Contract(inputs=columns_of(frame, margin), margin=margin)


def infer_outputs(predictions: Any, margin: float = DEFAULT_MARGIN) -> list[ColumnSpec]:
    """Output columns from predictions: ``prediction``, or ``prediction_<i>`` for 2-D output."""
    import numpy as np
    import pandas as pd

    values = np.asarray(predictions)
    if values.ndim <= 1 or values.shape[1] == 1:
        frame = pd.DataFrame({"prediction": values.reshape(-1)})
    else:
        frame = pd.DataFrame(values.reshape(len(values), -1))
        frame.columns = [f"prediction_{i}" for i in range(frame.shape[1])]
    return columns_of(frame, margin)


def columns_of(frame: pd.DataFrame, margin: float) -> list[ColumnSpec]:
    return [_column(str(name), frame[name], margin) for name in frame.columns]


def _column(name: str, series: pd.Series, margin: float) -> ColumnSpec:
    import pandas as pd
    from pandas.api import types

    nullable = bool(series.isna().any())
    present = series.dropna()
    if types.is_bool_dtype(series.dtype):
        return ColumnSpec(name, "bool", nullable)
    if types.is_datetime64_any_dtype(series.dtype):
        # Bounds are numbers only; a date range check belongs to the drift monitor, not here.
        return ColumnSpec(name, "datetime", nullable)
    if types.is_numeric_dtype(series.dtype):
        is_int = types.is_integer_dtype(series.dtype)
        lo, hi = _bounds(pd.to_numeric(present), margin, is_int)
        return ColumnSpec(name, "int64" if is_int else "float64", nullable, lo, hi)
    distinct = present.unique()
    if 0 < len(distinct) <= MAX_CATEGORIES:
        categories = sorted((_plain(v) for v in distinct), key=lambda v: (str(type(v)), v))
        return ColumnSpec(name, "category", nullable, categories=categories)
    return ColumnSpec(name, "string", nullable)


def _bounds(values: pd.Series, margin: float, is_int: bool) -> tuple[Any, Any]:
    finite = values[values.abs() != math.inf]
    if finite.empty:
        return None, None
    lo, hi = float(finite.min()), float(finite.max())
    # A constant column has no range to widen by; use its magnitude so that the contract does
    # not refuse every value but the one seen in training.
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    lo, hi = lo - margin * span, hi + margin * span
    if is_int:
        return math.floor(lo), math.ceil(hi)
    return lo, hi


def _plain(value: Any) -> Any:
    """NumPy scalars become Python ones, so the contract round-trips through YAML."""
    return value.item() if hasattr(value, "item") else value
