"""A model's answer as the model server writes it: one value per row for ``/predict`` and the
prediction records, MLflow's shape for ``/invocations``.

What a model returns, and what each route answers (MLflow's scoring server gives the
``/invocations`` column, read from ``mlflow.utils.proto_json_utils._get_jsonable_obj``):

==================  ==========================  ==============================================
the model returns   ``/predict``                ``/invocations``
==================  ==========================  ==============================================
NumPy array         ``tolist()``                the same
list                the list                    the same
DataFrame           one record per row          the same (``to_dict(orient="records")``)
Series              its values                  ``[{name: value}, ...]``, ``"0"`` unnamed
anything else       the value as it is          the same (a dict, a string, a number)
==================  ==========================  ==============================================

NaN is written as ``null`` (MLflow writes ``NaN``, which is not JSON).
"""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
import orjson
import pandas as pd

_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def per_row(answer: Any, rows: int) -> list[Any] | None:
    """``answer`` as one value per row of a request of ``rows`` rows; None when it is not one
    (a dict, a string, a count that is not ``rows``)."""
    values: Any
    if isinstance(answer, np.ndarray):  # the hot path: most flavors answer an array
        values = answer.tolist()
    elif isinstance(answer, pd.DataFrame):  # names and types kept, as MLflow keeps them
        values = answer.to_dict(orient="records")
    elif isinstance(answer, pd.Series):
        values = answer.tolist()
    elif isinstance(answer, list | tuple):
        values = list(answer)
    else:
        return None
    return values if isinstance(values, list) and len(values) == rows else None


def predict_answer(answer: Any, values: list[Any] | None) -> Any:
    """What ``/predict`` answers: the values per row, or the model's answer as it is."""
    return values if values is not None else answer


def mlflow_answer(answer: Any, values: list[Any] | None) -> Any:
    """What ``/invocations`` answers, as MLflow's scoring server does (``values`` being
    :func:`per_row`'s, so an answer is converted once)."""
    if isinstance(answer, pd.Series):  # MLflow makes it a one-column frame, then records
        name = str(answer.name) if answer.name is not None else "0"
        return [{name: value} for value in (values if values is not None else answer.tolist())]
    return predict_answer(answer, values)


def recorded(answer: Any, values: list[Any] | None, rows: int) -> list[Any]:
    """The output each row's prediction record keeps: its value, or for an answer that is
    not one per row, the whole answer when the request had one row (else nothing)."""
    if values is not None:
        return values
    return [answer] if rows == 1 else [None] * rows


def dumps(payload: Any) -> bytes:
    """``payload`` as JSON: NumPy and pandas values converted, anything else refused
    (TypeError), never written as its ``repr``."""
    try:
        return orjson.dumps(payload, default=_convert, option=_JSON_OPTIONS)
    except TypeError:  # maybe a frame's non-text column names, which cost twice to allow
        return orjson.dumps(
            payload, default=_convert, option=_JSON_OPTIONS | orjson.OPT_NON_STR_KEYS
        )


def _convert(value: Any) -> Any:
    if value is pd.NaT or value is pd.NA:  # missing values in a frame's records
        return None
    if isinstance(value, np.ndarray | np.generic | pd.Series | pd.Index):
        return value.tolist()
    if isinstance(value, pd.DataFrame):
        return value.to_dict(orient="records")
    if isinstance(value, datetime.date | datetime.time | pd.Timedelta):  # pd.Timestamp too
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


__all__ = ["dumps", "mlflow_answer", "per_row", "predict_answer", "recorded"]
