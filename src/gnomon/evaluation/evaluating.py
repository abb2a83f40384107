"""``gnomon.evaluate``: score a model (and a baseline) on labelled data, log it all to a run."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gnomon.errors import InvalidInput
from gnomon.evaluation.names import METRICS, MODEL_TYPES
from gnomon.evaluation.result import ConfusionMatrix, EvaluationResult

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.evaluation.inputs import EvaluationData
    from gnomon.evaluation.predictions import Predictions
    from gnomon.evaluation.verdict import Verdict

logger = logging.getLogger(__name__)

# Module → the pip package that provides it.
_LIBRARIES = {"sklearn": "scikit-learn", "matplotlib": "matplotlib", "pandas": "pandas"}
# Past this many classes a confusion matrix (classes², as PNG and in result.json) and
# per-class curves cost seconds and megabytes yet show nothing legible: only metrics are kept.
MAX_CLASSES = 100


def evaluate(
    model: Any,
    data: Any,
    targets: str | Any,
    *,
    model_type: str = "classifier",
    baseline: Any = None,
    thresholds: Mapping[str, Mapping[str, float | bool]] | None = None,
    segment_by: str | None = None,
    pos_label: Any = None,
) -> EvaluationResult:
    """Score ``model`` on ``data`` and log the evaluation to the active run (or to a run of
    its own, started and ended here).

    Logged: each metric as ``eval_<metric>`` (the baseline's as ``eval_baseline_<metric>``),
    under ``evaluation/`` the confusion matrix, ROC and precision-recall curves
    (classifiers) or residual plots (regressors) as PNG, ``segments.parquet``,
    ``result.json`` and ``verdict.json``, and the verdict as the tag
    ``gnomon.evaluation.verdict`` (``passed`` or ``failed``).

    Args:
        model: a fitted model with ``predict`` (and ``predict_proba`` for ROC AUC and log
            loss), or the URI of one: ``runs:/…``, ``models:/name/3``, ``models:/name@alias``.
        data: a DataFrame, or a 2-D array of features. A model that declares its inputs (a
            contract, scikit-learn's ``feature_names_in_``) gets those columns; any other
            gets every column but the targets.
        targets: the name of the target column in ``data``, or one value per row.
        model_type: ``"classifier"`` or ``"regressor"``.
        baseline: the model to beat (the champion), in any form ``model`` takes: it is
            scored on the same data.
        thresholds: the conditions of the verdict, e.g. ``{"f1": {"min_delta": 0.0},
            "accuracy": {"min_value": 0.8}}`` (see :mod:`gnomon.evaluation.verdict`);
            without them there is no verdict.
        segment_by: a column of ``data`` to break the metrics down by (its 50 most frequent
            values).
        pos_label: the positive class of a binary classifier; default: the greater label.

    Returns:
        The metrics, segments, baseline metrics, verdict and the artifacts' paths. Past
        ``MAX_CLASSES`` (100) classes the confusion matrix and the per-class curves are left
        out, and ``notes`` says so.

    Raises:
        InvalidInput: bad data, targets, model type, segment column or thresholds; a model
            without ``predict``; a baseline whose outputs differ from the model's; a
            library missing (the message names the package).
        NotFound: a model URI that names nothing.
        UserCodeError: the model's own predict raised.

    Example:
        >>> result = gnomon.evaluate(clf, test, "churned", baseline="models:/churn@production",
        ...                          thresholds={"f1": {"min_delta": 0.0}})
        >>> result.verdict.passed
        True
    """
    scored = score(
        model,
        data,
        targets,
        model_type=model_type,
        baseline=baseline,
        thresholds=thresholds,
        segment_by=segment_by,
        pos_label=pos_label,
    )
    from gnomon.evaluation.record import record

    return record(scored, model, baseline)


def score(
    model: Any,
    data: Any,
    targets: str | Any,
    *,
    model_type: str = "classifier",
    baseline: Any = None,
    thresholds: Mapping[str, Mapping[str, float | bool]] | None = None,
    segment_by: str | None = None,
    pos_label: Any = None,
    plots: bool = True,
) -> Scored:
    """What :func:`evaluate` computes (metrics, the baseline's, the verdict, the plots),
    logged nowhere: for callers that keep the evidence themselves, as the closed loop's gate
    does, without drawing the plots unless ``plots``. Takes and raises what :func:`evaluate`
    does."""
    checked = _checked_options(model_type, thresholds, baseline is not None)
    evaluation_data = _read(data, targets, model_type, segment_by)
    return _score(model, baseline, evaluation_data, model_type, pos_label, checked, plots)


@dataclass
class Scored:
    """Everything computed before anything is logged: a failure leaves no half-written run."""

    model_type: str
    rows: int
    predictions: Predictions
    metrics: dict[str, float]
    baseline: Predictions | None = None
    baseline_metrics: dict[str, float] | None = None
    verdict: Verdict | None = None
    segments: pd.DataFrame | None = None
    confusion: ConfusionMatrix | None = None
    baseline_confusion: ConfusionMatrix | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def result(
        self, run_id: str, artifacts: dict[str, str], model: str, baseline: str | None
    ) -> EvaluationResult:
        return EvaluationResult(
            run_id=run_id,
            model_type=self.model_type,
            rows=self.rows,
            metrics=self.metrics,
            baseline_metrics=self.baseline_metrics,
            verdict=self.verdict,
            segments=self.segments,
            confusion_matrix=self.confusion,
            baseline_confusion_matrix=self.baseline_confusion,
            artifacts=artifacts,
            model=model,
            baseline=baseline,
            notes=list(self.notes),
        )


def _checked_options(
    model_type: str,
    thresholds: Mapping[str, Mapping[str, float | bool]] | None,
    has_baseline: bool,
) -> dict[str, dict[str, float | bool]] | None:
    if model_type not in MODEL_TYPES:
        raise InvalidInput(
            f"model_type must be one of {', '.join(MODEL_TYPES)}, got {model_type!r}",
            {"model_type": str(model_type)},
        )
    for module, package in _LIBRARIES.items():
        if importlib.util.find_spec(module) is None:
            raise InvalidInput(
                f"evaluate needs {package}: pip install 'gnomon[sklearn,plots]'",
                {"package": package},
            )
    if thresholds is None:
        return None
    from gnomon.evaluation.verdict import check_thresholds

    return check_thresholds(thresholds, METRICS[model_type], has_baseline)


def _read(data: Any, targets: Any, model_type: str, segment_by: str | None) -> EvaluationData:
    from gnomon.evaluation.inputs import read_data

    return read_data(data, targets, model_type, segment_by)


def _score(
    model: Any,
    baseline: Any,
    data: EvaluationData,
    model_type: str,
    pos_label: Any,
    thresholds: dict[str, dict[str, float | bool]] | None,
    plots: bool = True,
) -> Scored:
    from gnomon.evaluation.metrics import compute_metrics
    from gnomon.evaluation.predictions import predict, resolve_model

    candidate = resolve_model(model, "model")
    champion = None if baseline is None else resolve_model(baseline, "baseline")
    if champion is not None:
        _check_comparable(candidate, champion)
    predictions = predict(candidate, data, model_type, pos_label, "model")
    scored = Scored(model_type, len(data), predictions, compute_metrics(model_type, predictions))
    scored.confusion = _confusion(predictions)
    scored.notes += _too_many_classes(predictions, "model")
    if champion is not None:
        scored.baseline = predict(champion, data, model_type, pos_label, "baseline")
        scored.baseline_metrics = compute_metrics(model_type, scored.baseline)
        scored.baseline_confusion = _confusion(scored.baseline)
        scored.notes += _too_many_classes(scored.baseline, "baseline")
    if thresholds is not None:
        from gnomon.evaluation.verdict import judge

        scored.verdict = judge(scored.metrics, thresholds, scored.baseline_metrics)
    if data.segments is not None:
        from gnomon.evaluation.segments import segment_table

        scored.segments = segment_table(data.segments, model_type, predictions, scored.baseline)
    if plots:
        scored.figures = _figures(scored)
    return scored


def _check_comparable(model: Any, baseline: Any) -> None:
    """A baseline must answer the same question: outputs of the same kinds, when both
    models' contracts say. Their inputs may differ (a challenger may use a new feature):
    each gets its own columns from the data."""
    mine, theirs = _output_kinds(model), _output_kinds(baseline)
    if mine is not None and theirs is not None and mine != theirs:
        raise InvalidInput(
            f"the baseline's contract outputs {theirs} but the model's outputs {mine}: "
            "they do not predict the same thing",
            {"model": mine, "baseline": theirs},
        )


def _output_kinds(model: Any) -> list[str] | None:
    outputs = getattr(getattr(model, "contract", None), "outputs", None)
    if not outputs:
        return None
    kinds = {"int64": "number", "float64": "number", "string": "text", "category": "text"}
    return [kinds.get(column.dtype, column.dtype) for column in outputs]


def _confusion(p: Predictions | None) -> ConfusionMatrix | None:
    if p is None or p.classes is None or len(p.classes) > MAX_CLASSES:
        return None
    from gnomon.evaluation.metrics import confusion_matrix

    return ConfusionMatrix(p.classes, confusion_matrix(p))


def _too_many_classes(p: Predictions, role: str) -> list[str]:
    """A note when ``p`` has more classes than plots can show, suggesting a regressor when
    the targets are numbers (a quantity read as labels gives a class per value)."""
    if p.classes is None or len(p.classes) <= MAX_CLASSES:
        return []
    note = (
        f"the {role} has {len(p.classes):,} classes, more than {MAX_CLASSES}: its confusion "
        "matrix and per-class curves are left out (the metrics are complete)"
    )
    if p.targets.dtype.kind in "iuf":
        note += "; the targets are numbers: if they measure a quantity, pass model_type='regressor'"
    logger.warning("gnomon: %s", note)
    return [note]


def _figures(scored: Scored) -> dict[str, Any]:
    """Artifact name → figure, for the evaluated model and the baseline."""
    from gnomon.evaluation import plots

    figures: dict[str, Any] = {}
    pairs = [
        ("model", "", scored.predictions, scored.confusion),
        ("baseline", "baseline_", scored.baseline, scored.baseline_confusion),
    ]
    for label, prefix, p, matrix in pairs:
        if p is None:
            continue
        if p.classes is None:
            figures[f"{prefix}residuals"] = plots.residuals_figure(p, f"Residuals ({label})")
        elif matrix is not None:
            figures[f"{prefix}confusion_matrix"] = plots.confusion_figure(
                matrix.classes, matrix.matrix, f"Confusion matrix ({label})"
            )
    curves = [(label, p) for label, _, p, _ in pairs if p is not None and p.proba is not None]
    first = scored.predictions
    if curves and first.proba is not None and len(first.classes or ()) <= MAX_CLASSES:
        figures["roc_curve"] = plots.roc_figure(curves)
        figures["pr_curve"] = plots.pr_figure(curves)
    return figures
