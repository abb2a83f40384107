"""Metrics per value of a segment column (region, plan, device...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gnomon.evaluation.metrics import compute_metrics
from gnomon.evaluation.names import METRICS

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.evaluation.predictions import Predictions

MAX_SEGMENTS = 50  # the most frequent values get a row; a column of ids would get thousands


def segment_table(
    segments: pd.Series,
    model_type: str,
    predictions: Predictions,
    baseline: Predictions | None = None,
) -> pd.DataFrame:
    """One row per segment value (the ``MAX_SEGMENTS`` most frequent, missing values
    included), most frequent first: the value, ``count``, then each metric, then each
    ``baseline_<metric>``."""
    import pandas as pd

    name = str(segments.name)
    if name == "count" or name.startswith("baseline_") or name in METRICS[model_type]:
        name = "segment"  # the column's own name would clash with a metric's
    values = segments.reset_index(drop=True)
    if values.dtype == object:  # Parquet needs one type per column: mixed values become text
        values = values.map(lambda v: None if pd.isna(v) else str(v))
    positions = values.groupby(values.to_numpy(), dropna=False).indices
    ranked = sorted(positions.items(), key=lambda item: -len(item[1]))[:MAX_SEGMENTS]
    rows = []
    for value, rows_of_value in ranked:
        row = {name: value, "count": len(rows_of_value)}
        row.update(compute_metrics(model_type, predictions.subset(rows_of_value)))
        if baseline is not None:
            scores = compute_metrics(model_type, baseline.subset(rows_of_value))
            row.update({f"baseline_{k}": v for k, v in scores.items()})
        rows.append(row)
    return pd.DataFrame(rows)
