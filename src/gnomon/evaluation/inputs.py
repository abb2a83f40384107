"""What an evaluation reads: the data checked and split into features, targets and segments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gnomon.errors import InvalidInput
from gnomon.suggestions import did_you_mean

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@dataclass(frozen=True)
class EvaluationData:
    """``data`` without the target column, the targets, and the segment of each row."""

    features: Any  # a DataFrame, or a 2-D NumPy array
    targets: np.ndarray
    segments: pd.Series | None

    def __len__(self) -> int:
        return len(self.targets)


def read_data(data: Any, targets: Any, model_type: str, segment_by: str | None) -> EvaluationData:
    """Check ``data`` (a DataFrame or a 2-D array) and ``targets`` (a column of ``data`` or
    an array of one value per row) and split them.

    Raises:
        InvalidInput: empty or unreadable data, an unknown target or segment column, targets
            of another length, missing targets, or non-numeric targets for a regressor.
    """
    import pandas as pd

    frame = data if isinstance(data, pd.DataFrame) else None
    features = frame if frame is not None else _array(data)
    if len(features) == 0:
        raise InvalidInput("evaluate needs at least one row of data")
    if isinstance(targets, str):
        if frame is None:
            raise InvalidInput(
                f"targets={targets!r} names a column, but data is not a DataFrame: "
                "pass the targets as an array"
            )
        _require_column(frame, targets, "target")
        values = frame[targets].to_numpy()
        features = frame.drop(columns=[targets])
    else:
        values = _targets_array(targets, len(features))
    segments = None
    if segment_by is not None:
        if frame is None:
            raise InvalidInput(f"segment_by={segment_by!r} needs data as a DataFrame")
        _require_column(frame, segment_by, "segment")
        segments = frame[segment_by]
    return EvaluationData(features, _checked_targets(values, model_type), segments)


def _array(data: Any) -> np.ndarray:
    import numpy as np

    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as exc:
        kind = type(data).__name__
        raise InvalidInput(f"evaluate cannot read data of type {kind}: {exc}") from exc
    if array.ndim != 2:
        raise InvalidInput(
            f"data must be a DataFrame or a 2-D array (rows by features), got {array.ndim} "
            f"dimensions (shape {array.shape})"
        )
    return array


def _require_column(frame: pd.DataFrame, column: str, role: str) -> None:
    if column not in frame.columns:
        names = [str(c) for c in frame.columns]
        raise InvalidInput(
            f"data has no {role} column {column!r}{did_you_mean(column, names)} "
            f"(columns: {', '.join(names[:20])}{'...' if len(names) > 20 else ''})",
            {"column": column},
        )


def _targets_array(targets: Any, rows: int) -> np.ndarray:
    import numpy as np

    values = np.asarray(targets)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.ndim != 1:
        raise InvalidInput(f"targets must be one value per row, got shape {values.shape}")
    if len(values) != rows:
        raise InvalidInput(f"targets hold {len(values)} values but data has {rows} rows")
    return values


def _checked_targets(values: np.ndarray, model_type: str) -> np.ndarray:
    import pandas as pd

    missing = int(pd.isna(values).sum())
    if missing:
        raise InvalidInput(f"targets hold {missing} missing values (NaN or None)")
    if model_type == "regressor":
        if values.dtype.kind not in "iuf":
            raise InvalidInput(
                f"a regressor's targets must be numbers, got {values.dtype} "
                "(use model_type='classifier' for labels)"
            )
        return values.astype("float64")
    from sklearn.utils.multiclass import type_of_target

    kind = type_of_target(values)
    if kind not in ("binary", "multiclass"):
        raise InvalidInput(
            f"a classifier's targets must be class labels, got {kind} values "
            "(use model_type='regressor' for continuous targets)"
        )
    return values
