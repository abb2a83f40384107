"""Model evaluation: ``gnomon.evaluate`` scores a model (and a baseline to beat) on labelled
data, logs metrics, plots and a verdict to a run, and returns an :class:`EvaluationResult`.

``judge`` turns metrics and thresholds into a :class:`Verdict` on its own, for a gate that
reads metrics from runs. Importing this package loads neither scikit-learn nor matplotlib.
"""

from __future__ import annotations

from gnomon.evaluation.evaluating import evaluate
from gnomon.evaluation.result import ConfusionMatrix, EvaluationResult
from gnomon.evaluation.verdict import MetricCheck, Verdict, check_thresholds, judge

__all__ = [
    "ConfusionMatrix",
    "EvaluationResult",
    "MetricCheck",
    "Verdict",
    "check_thresholds",
    "evaluate",
    "judge",
]
