"""Turning what a caller passes to ``predict`` into one DataFrame in the contract's order.

Accepted forms:

- a pandas DataFrame;
- a dict of columns, ``{"a": [1, 2]}``: a dict whose values are all lists, tuples, arrays or
  Series (any other dict is one record, ``{"a": 1}``);
- a list of records, ``[{"a": 1}, {"a": 2}]``;
- a NumPy array, 2-D (or 1-D for a single row), whose columns are taken by position from the
  contract. Without a contract they are named ``x0``, ``x1``, ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.modelfolder.contract import Contract


def to_frame(data: Any, contract: Contract | None = None) -> pd.DataFrame:
    """Read ``data`` as a table and, given a contract, check and order its columns.

    Raises:
        InvalidInput: an unsupported type, or columns the contract does not list or misses.
    """
    frame = _read(data, contract)
    if contract is None or not contract.inputs:
        return frame
    return _align(frame, contract)


def _read(data: Any, contract: Contract | None) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, np.ndarray):
        return _from_array(data, contract)
    if isinstance(data, Mapping):
        if data and all(_is_column(v) for v in data.values()):
            return pd.DataFrame(dict(data))
        return pd.DataFrame([dict(data)])
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        if not data:
            raise InvalidInput("input has no rows")
        if all(isinstance(row, Mapping) for row in data):
            return pd.DataFrame([dict(row) for row in data])
        return _from_array(np.asarray(data, dtype=object), contract)
    raise InvalidInput(
        f"cannot read input of type {type(data).__name__}; pass a DataFrame, a dict of "
        "columns, a list of records or a 2-D NumPy array"
    )


def _is_column(value: Any) -> bool:
    import numpy as np
    import pandas as pd

    return isinstance(value, list | tuple | np.ndarray | pd.Series)


def _from_array(array: Any, contract: Contract | None) -> pd.DataFrame:
    import pandas as pd

    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        raise InvalidInput(f"a NumPy input must be 1-D or 2-D, got {array.ndim} dimensions")
    names = contract.input_names if contract and contract.inputs else None
    if names is None:
        names = [f"x{i}" for i in range(array.shape[1])]
    if len(names) != array.shape[1]:
        raise InvalidInput(
            f"the array has {array.shape[1]} columns but the contract has {len(names)}: {names}"
        )
    frame = pd.DataFrame(array, columns=names)
    if array.dtype == object:
        # An object array carries no dtypes; infer them per column as pandas would from lists.
        frame = frame.infer_objects()
    return frame


def _align(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    names = contract.input_names
    if _already_aligned(frame, contract):  # e.g. the model server's checked frames
        return frame
    given = [str(c) for c in frame.columns]
    unknown = [c for c in given if c not in names]
    if unknown:
        raise InvalidInput(f"unknown input columns {unknown}; the contract lists {names}")
    missing = [c for c in names if c not in given]
    if missing:
        raise InvalidInput(f"missing input columns {missing}")
    frame = frame.set_axis(given, axis=1)[names]
    return frame.assign(**{c.name: _cast(frame[c.name], c.dtype) for c in contract.inputs})


_CAST_DTYPES = ("float64", "int64", "bool")


def _already_aligned(frame: pd.DataFrame, contract: Contract) -> bool:
    """Columns in contract order with the dtypes ``_cast`` would give them: nothing to do."""
    import numpy as np

    if frame.columns.tolist() != contract.input_names:
        return False
    for dtype, column in zip(frame.dtypes, contract.inputs, strict=True):
        # dtype objects, not str(dtype): that costs ~5 µs a column, on every served request
        if column.dtype in _CAST_DTYPES and dtype != np.dtype(column.dtype):
            return False
        if column.dtype == "datetime" and not str(dtype).startswith("datetime64"):
            return False
    return True


def _cast(series: pd.Series, dtype: str) -> pd.Series:
    """Give numeric columns the contract's dtype: JSON and object arrays lose it on the way."""
    import pandas as pd

    try:
        if dtype == "float64":
            return series.astype("float64")
        if dtype == "int64" and not series.isna().any():
            cast = series.astype("int64")
            # Only a lossless cast; 1.5 sent to an int column is the contract checker's to refuse.
            return cast if bool((cast == series).all()) else series
        if dtype == "bool" and series.dtype == object and not series.isna().any():
            return series.astype("bool")
        if dtype == "datetime":
            return pd.to_datetime(series)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"column '{series.name}' cannot be read as {dtype}: {exc}") from None
    return series
