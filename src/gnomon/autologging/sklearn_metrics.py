"""Training metrics of a fitted scikit-learn model, computed on the data it was fitted on,
weighted by the fit's ``sample_weight`` when it had one.

Classifiers: ``training_accuracy``, ``training_precision``, ``training_recall``,
``training_f1`` (of the greater class of two, as ``gnomon.evaluate`` scores them, else
weighted over the classes), and with ``predict_proba`` ``training_log_loss`` and
``training_roc_auc`` (one-vs-rest, weighted, for more than two classes). Regressors:
``training_mse``, ``training_rmse``, ``training_mae``, ``training_r2``. Any model with
``score``: ``training_score``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from gnomon.autologging.patching import safely
from gnomon.autologging.positive_class import positive_label

PREFIX = "training_"


def training_metrics(model: Any, x: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
    """The metrics above that apply to ``model``; one that cannot be computed is left out
    with a warning."""
    import numpy as np
    from sklearn.base import is_classifier, is_regressor

    metrics: dict[str, Callable[[], float]] = {}
    if y is not None and is_classifier(model) and np.ndim(y) == 1:
        metrics.update(_classifier(model, x, y, sample_weight))
    elif y is not None and is_regressor(model):
        metrics.update(_regressor(model, x, y, sample_weight))
    if hasattr(model, "score"):
        metrics["score"] = lambda: _score(model, x, y, sample_weight)
    values = {}
    for name, compute in metrics.items():
        value = safely(f"compute the training metric {name!r}", compute)
        if value is not None:
            values[PREFIX + name] = float(value)
    return values


def _classifier(model: Any, x: Any, y: Any, weight: Any) -> dict[str, Callable[[], float]]:
    from sklearn import metrics as m

    predicted = model.predict(x)
    classes = list(model.classes_)
    positive = positive_label(classes)
    averaging: dict[str, Any] = (
        {"average": "weighted"}
        if positive is None
        else {"average": "binary", "pos_label": positive}
    )
    scores = {**averaging, "sample_weight": weight, "zero_division": 0.0}
    found = {
        "accuracy": lambda: m.accuracy_score(y, predicted, sample_weight=weight),
        "precision": lambda: m.precision_score(y, predicted, **scores),
        "recall": lambda: m.recall_score(y, predicted, **scores),
        "f1": lambda: m.f1_score(y, predicted, **scores),
    }
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(x)
        found["log_loss"] = lambda: m.log_loss(y, proba, labels=classes, sample_weight=weight)
        found["roc_auc"] = lambda: _roc_auc(y, proba, classes, positive, weight)
    return found


def _roc_auc(y: Any, proba: Any, classes: list[Any], positive: Any, weight: Any) -> float:
    import numpy as np
    from sklearn.metrics import roc_auc_score

    if positive is not None:
        column = classes.index(positive)
        return float(
            roc_auc_score(np.asarray(y) == positive, proba[:, column], sample_weight=weight)
        )
    return float(
        roc_auc_score(
            y, proba, multi_class="ovr", average="weighted", labels=classes, sample_weight=weight
        )
    )


def _regressor(model: Any, x: Any, y: Any, weight: Any) -> dict[str, Callable[[], float]]:
    from sklearn import metrics as m

    predicted = model.predict(x)
    mse = float(m.mean_squared_error(y, predicted, sample_weight=weight))
    return {
        "mse": lambda: mse,
        "rmse": lambda: math.sqrt(mse),
        "mae": lambda: m.mean_absolute_error(y, predicted, sample_weight=weight),
        "r2": lambda: m.r2_score(y, predicted, sample_weight=weight),
    }


def _score(model: Any, x: Any, y: Any, weight: Any) -> float:
    if weight is not None:
        return float(model.score(x, y, sample_weight=weight))
    return float(model.score(x, y))
