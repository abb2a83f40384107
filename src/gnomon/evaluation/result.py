"""What ``gnomon.evaluate`` returns, and writes to its run as ``evaluation/result.json``."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.evaluation.verdict import Verdict


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts by true class (``matrix`` rows) and predicted class (columns)."""

    classes: list[Any]
    matrix: list[list[int]]


@dataclass(frozen=True)
class EvaluationResult:
    """One evaluation of a model (and its baseline) on one data set.

    ``metrics`` and ``baseline_metrics`` map a metric name to its value (NaN where it is
    undefined on the data); ``segments`` has a row per value of the segment column with its
    ``count`` and metrics (``baseline_<metric>`` too with a baseline); ``artifacts`` maps
    each artifact to its path in run ``run_id``. ``model`` and ``baseline`` say what was
    evaluated (a URI, or ``in-memory <class>``); ``notes`` says what was left out and why
    (the confusion matrix of a model with too many classes).

    In a notebook it shows as tables: the metrics beside the baseline's, the verdict's
    checks and the segments.
    """

    run_id: str
    model_type: str
    rows: int
    metrics: dict[str, float]
    baseline_metrics: dict[str, float] | None = None
    verdict: Verdict | None = None
    segments: pd.DataFrame | None = None
    confusion_matrix: ConfusionMatrix | None = None
    baseline_confusion_matrix: ConfusionMatrix | None = None
    artifacts: dict[str, str] = field(default_factory=dict)
    model: str | None = None
    baseline: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values: NaN becomes ``None``, segments a list of records."""
        segments = None
        if self.segments is not None:
            segments = json.loads(self.segments.to_json(orient="records", date_format="iso"))
        return {
            "run_id": self.run_id,
            "model_type": self.model_type,
            "rows": self.rows,
            "metrics": _plain(self.metrics),
            "baseline_metrics": _plain(self.baseline_metrics),
            "verdict": self.verdict.to_dict() if self.verdict else None,
            "segments": segments,
            "confusion_matrix": _matrix(self.confusion_matrix),
            "baseline_confusion_matrix": _matrix(self.baseline_confusion_matrix),
            "artifacts": dict(self.artifacts),
            "model": self.model,
            "baseline": self.baseline,
            "notes": list(self.notes),
        }

    def _repr_html_(self) -> str:
        from gnomon.evaluation.html import evaluation_html

        return evaluation_html(self)


def _plain(metrics: dict[str, float] | None) -> dict[str, float | None] | None:
    if metrics is None:
        return None
    return {k: None if math.isnan(v) else v for k, v in metrics.items()}


def _matrix(matrix: ConfusionMatrix | None) -> dict[str, Any] | None:
    return None if matrix is None else {"classes": matrix.classes, "matrix": matrix.matrix}
