"""The standard metrics, computed by scikit-learn on a model's predictions.

Classifiers: accuracy, precision, recall, f1, roc_auc and log_loss (the last two need
``predict_proba``). A binary problem scores the positive class; a multiclass one weights
each class's precision, recall, f1 and one-vs-rest ROC AUC by its number of targets.
Regressors: rmse, mae and r2. A metric that is undefined on the rows given (ROC AUC when
only one class is present, r2 of a single row) is NaN.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gnomon.evaluation.predictions import Predictions


def compute_metrics(model_type: str, p: Predictions) -> dict[str, float]:
    """Every metric of ``model_type`` on ``p``; NaN where undefined, absent where the model
    cannot give it (ROC AUC and log loss without probabilities)."""
    if model_type == "regressor":
        return _regressor(p)
    return _classifier(p)


def _regressor(p: Predictions) -> dict[str, float]:
    from sklearn import metrics as m

    y, pred = p.targets, p.predicted
    return {
        "rmse": _defined(lambda: m.root_mean_squared_error(y, pred)),
        "mae": _defined(lambda: m.mean_absolute_error(y, pred)),
        "r2": _defined(lambda: m.r2_score(y, pred)),
    }


def _classifier(p: Predictions) -> dict[str, float]:
    from sklearn import metrics as m

    y, pred = p.targets, p.predicted
    averaging: dict[str, Any] = (
        {"average": "binary", "pos_label": p.pos_label} if p.binary else {"average": "weighted"}
    )
    scores = {
        "accuracy": _defined(lambda: m.accuracy_score(y, pred)),
        "precision": _defined(lambda: m.precision_score(y, pred, zero_division=0.0, **averaging)),
        "recall": _defined(lambda: m.recall_score(y, pred, zero_division=0.0, **averaging)),
        "f1": _defined(lambda: m.f1_score(y, pred, zero_division=0.0, **averaging)),
    }
    if p.proba is not None:
        scores["roc_auc"] = _defined(lambda: _roc_auc(p))
        scores["log_loss"] = _defined(lambda: m.log_loss(y, p.proba, labels=p.classes))
    return scores


def confusion_matrix(p: Predictions) -> list[list[int]]:
    """Counts by true class (rows) and predicted class (columns), in ``p.classes`` order."""
    from sklearn.metrics import confusion_matrix as matrix

    counts: list[list[int]] = matrix(p.targets, p.predicted, labels=p.classes).tolist()
    return counts


def _roc_auc(p: Predictions) -> float:
    from sklearn.metrics import roc_auc_score

    assert p.proba is not None and p.classes is not None
    if p.binary:
        column = p.classes.index(p.pos_label)
        return float(roc_auc_score(p.targets == p.pos_label, p.proba[:, column]))
    return float(
        roc_auc_score(p.targets, p.proba, multi_class="ovr", average="weighted", labels=p.classes)
    )


def _defined(metric: Callable[[], Any]) -> float:
    """The metric's value, or NaN where scikit-learn says it is undefined on these rows."""
    from sklearn.exceptions import UndefinedMetricWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)
        try:
            value = float(metric())
        except (ValueError, UndefinedMetricWarning):
            return math.nan
    return value
