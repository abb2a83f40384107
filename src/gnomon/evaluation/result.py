"""What ``gnomon.evaluate`` returns, and writes to its run as ``evaluation/result.json``."""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gnomon.evaluation.names import higher_is_better

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
    each artifact to its path in run ``run_id``.
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
        }

    def _repr_html_(self) -> str:
        header = "<tr><th>metric</th><th>model</th>"
        if self.baseline_metrics is not None:
            header += "<th>baseline</th><th>better by</th>"
        rows = [header + "</tr>"]
        for metric, value in self.metrics.items():
            cells = [metric, _number(value)]
            if self.baseline_metrics is not None:
                base = self.baseline_metrics.get(metric, math.nan)
                gain = value - base if higher_is_better(metric) else base - value
                cells += [_number(base), _number(gain)]
            rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        caption = f"{self.model_type} evaluation on {self.rows} rows (run {self.run_id})"
        if self.verdict is not None:
            caption += f": {'passed' if self.verdict.passed else 'FAILED'}"
        return f"<table><caption>{html.escape(caption)}</caption>{''.join(rows)}</table>"


def _plain(metrics: dict[str, float] | None) -> dict[str, float | None] | None:
    if metrics is None:
        return None
    return {k: None if math.isnan(v) else v for k, v in metrics.items()}


def _matrix(matrix: ConfusionMatrix | None) -> dict[str, Any] | None:
    return None if matrix is None else {"classes": matrix.classes, "matrix": matrix.matrix}


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.4g}"
