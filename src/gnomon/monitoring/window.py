"""One window of records evaluated against a prepared reference: drift, data quality,
outliers and live performance, as figures and details."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gnomon._types import now_ms
from gnomon.modelfolder.contract import ColumnSpec
from gnomon.monitoring.entities import Figure, WindowResult, figure
from gnomon.monitoring.outliers import OutlierDetector, outliers
from gnomon.monitoring.performance import performance
from gnomon.monitoring.quality import quality
from gnomon.monitoring.records import Watched, input_column
from gnomon.monitoring.reference import arrays

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from gnomon.monitoring.drift import DriftConfig, Reference

PREDICTION = "__prediction__"  # prediction drift's column in figures and the drift report
SEGMENT = "\x1fsegment"  # the segment's column in the joined records: no input can be so named
BASELINE_SIZE = 10_000  # predictions kept as the prediction-drift baseline


@dataclass(frozen=True, slots=True)
class Prepared:
    """What every window of one run is compared with."""

    specs: tuple[ColumnSpec, ...]
    watched: tuple[Watched, ...]
    reference: Reference
    config: DriftConfig
    detector: OutlierDetector | None
    predictions: Reference | None  # the prediction-drift baseline, once there is one
    prediction_numeric: bool
    segment: str | None
    task: str
    segment_edges: tuple[float, ...] = ()  # a numeric segment's bands (reference quartiles)


def evaluate(
    prepared: Prepared,
    monitor: str,
    start_ms: int,
    end_ms: int,
    table: pa.Table,
    outcomes: pa.Table | None,
) -> WindowResult:
    """The window's result; a window without records has no figures but its row count."""
    from gnomon.monitoring.drift import drift_report

    rows = table.num_rows
    figures: list[Figure] = [figure("rows", float(rows), "rows")]
    if rows == 0:
        return WindowResult(monitor, start_ms, end_ms, 0, tuple(figures), {}, now_ms())
    current = arrays(table, prepared.watched, input_column)
    report = drift_report(prepared.reference, current, prepared.config)
    figures += _drift_figures(report)
    details: dict[str, Any] = {"drift": report.to_dict()}
    if prepared.predictions is not None:
        predicted = prediction_values(table, prepared.prediction_numeric)
        found = drift_report(prepared.predictions, {PREDICTION: predicted}, prepared.config)
        column = found.columns[0]
        figures.append(
            figure("drift.prediction.score", column.statistic, "drift_score", column=PREDICTION)
        )
        figures.append(
            figure(
                "drift.prediction.detected",
                _detected(column.status),
                "drift_detected",
                column=PREDICTION,
            )
        )
        details["prediction_drift"] = found.to_dict()
    found_quality, details["quality"] = quality(table, prepared.specs)
    figures += found_quality
    if prepared.detector is not None:
        rate, top = outliers(prepared.detector, current, table.column("request_id"))
        figures.append(figure("outliers.rate", rate, "outlier_rate"))
        details["outliers"] = {"rate": rate, "threshold": prepared.detector.threshold, "top": top}
    if outcomes is not None:
        joined = _joined(table, outcomes, prepared.segment, prepared.segment_edges)
        found_performance, details["performance"] = performance(
            joined, prepared.task, prepared.segment, SEGMENT
        )
        figures += found_performance
    return WindowResult(monitor, start_ms, end_ms, rows, tuple(figures), details, now_ms())


def prediction_values(table: pa.Table, numeric: bool) -> np.ndarray:
    import numpy as np

    if numeric:
        return table.column("prediction").to_numpy(zero_copy_only=False).astype(float)
    return np.array(table.column("prediction_label").to_pylist(), dtype=object)


def _drift_figures(report: Any) -> list[Figure]:
    out = [
        figure("drift.share", report.drift_share, "drift_share"),
        figure("drift.dataset", float(report.dataset_drift), "dataset_drift"),
    ]
    for column in report.columns:
        out.append(
            figure(
                f"drift.score.{column.column}",
                column.statistic,
                "drift_score",
                column=column.column,
            )
        )
        out.append(
            figure(
                f"drift.detected.{column.column}",
                _detected(column.status),
                "drift_detected",
                column=column.column,
            )
        )
    return out


def _detected(status: str) -> float | None:
    return None if status == "insufficient" else float(status == "drift")


def _joined(
    table: pa.Table, outcomes: pa.Table, segment: str | None, edges: tuple[float, ...]
) -> Any:
    """The window's records with their outcomes (null where none arrived), as pandas; a
    numeric segment's values replaced by their band (``[12.1, 14.6)``)."""
    keep = ["request_id", "role", "model_version", "prediction", "prediction_label"]
    frame = table.select(keep).to_pandas()
    if segment is not None and input_column(segment) in table.column_names:
        values = table.column(input_column(segment)).to_pandas()
        frame[SEGMENT] = bands(values.to_numpy(dtype=float), edges) if edges else values
    return frame.merge(outcomes.to_pandas(), on="request_id", how="left")


def bands(values: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    """Each value's band between ``edges`` as text (None for a null)."""
    import numpy as np

    bounds = ["-inf", *(f"{e:.4g}" for e in edges), "inf"]
    names = [f"[{lo}, {hi})" for lo, hi in itertools.pairwise(bounds)]
    index = np.searchsorted(np.asarray(edges), values, side="right")
    out = np.array([names[i] for i in index], dtype=object)
    out[np.isnan(values)] = None
    return out


__all__ = ["BASELINE_SIZE", "PREDICTION", "Prepared", "evaluate", "prediction_values"]
