"""The evaluation's plots as matplotlib figures: confusion matrix, ROC and precision-recall
curves for classifiers, residuals for regressors.

Figures are built with ``matplotlib.figure.Figure`` (the Agg canvas when saved), never
through pyplot, so the user's backend and open figures stay as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from gnomon.evaluation.predictions import Predictions

MAX_CURVE_CLASSES = 10  # one-vs-rest curves drawn for a multiclass model, the first classes
MAX_POINTS = 5_000  # residual scatter points, evenly spaced over the rows
# Fixed margins: a layout engine measures every label first, and doubled the time to save.
_MARGINS = {"left": 0.16, "right": 0.96, "bottom": 0.16, "top": 0.88}


def confusion_figure(classes: Sequence[Any], matrix: list[list[int]], title: str) -> Figure:
    figure, axes = _figure(title)
    axes.imshow(matrix, cmap="Blues")
    ticks = range(len(classes))
    names = [str(c) for c in classes]
    axes.set_xticks(ticks, names, rotation=45 if len(names) > 4 else 0)
    axes.set_yticks(ticks, names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    if len(classes) <= 20:  # beyond that the counts would not be legible
        peak = max((max(row) for row in matrix), default=0)
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                color = "white" if count > peak / 2 else "black"
                axes.text(j, i, str(count), ha="center", va="center", color=color)
    return figure


def roc_figure(curves: Sequence[tuple[str, Predictions]]) -> Figure:
    """ROC curves: one per model for a binary problem, one per class (one-vs-rest) of the
    first model for a multiclass one."""
    from sklearn.metrics import auc, roc_curve

    figure, axes = _figure("ROC curve")
    for label, truth, score in _scores(curves):
        fpr, tpr, _ = roc_curve(truth, score)
        axes.plot(fpr, tpr, label=f"{label} (AUC {auc(fpr, tpr):.3f})")
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.legend(loc="lower right", fontsize="small")
    return figure


def pr_figure(curves: Sequence[tuple[str, Predictions]]) -> Figure:
    from sklearn.metrics import precision_recall_curve

    figure, axes = _figure("Precision-recall curve")
    for label, truth, score in _scores(curves):
        precision, recall, _ = precision_recall_curve(truth, score)
        axes.plot(recall, precision, label=label)
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.legend(loc="lower left", fontsize="small")
    return figure


def _scores(
    curves: Sequence[tuple[str, Predictions]],
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(label, is-positive per row, score per row) for each curve to draw; classes absent
    from the targets have no curve."""
    out = []
    first = curves[0][1]
    if first.binary:
        for name, p in curves:
            if not p.binary:  # a baseline that knows other classes has no comparable curve
                continue
            assert p.proba is not None and p.classes is not None
            truth = p.targets == p.pos_label
            if 0 < truth.sum() < len(truth):
                out.append((name, truth, p.proba[:, p.classes.index(p.pos_label)]))
        return out
    assert first.proba is not None and first.classes is not None
    for index, cls in enumerate(first.classes[:MAX_CURVE_CLASSES]):
        truth = first.targets == cls
        if 0 < truth.sum() < len(truth):
            out.append((f"{curves[0][0]}: {cls}", truth, first.proba[:, index]))
    return out


def residuals_figure(p: Predictions, title: str) -> Figure:
    """Residuals against predictions, and predictions against targets."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 4), dpi=100)
    figure.subplots_adjust(**_MARGINS, wspace=0.3)
    figure.suptitle(title)
    left, right = figure.subplots(1, 2)
    step = max(1, len(p.targets) // MAX_POINTS)
    truth, predicted = p.targets[::step], p.predicted[::step]
    left.scatter(predicted, truth - predicted, s=6, alpha=0.5)
    left.axhline(0, color="grey", linestyle=":")
    left.set_xlabel("predicted")
    left.set_ylabel("residual (target - predicted)")
    right.scatter(truth, predicted, s=6, alpha=0.5)
    low, high = float(min(truth.min(), predicted.min())), float(max(truth.max(), predicted.max()))
    right.plot([low, high], [low, high], color="grey", linestyle=":")
    right.set_xlabel("target")
    right.set_ylabel("predicted")
    return figure


def _figure(title: str) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 4), dpi=100)
    figure.subplots_adjust(**_MARGINS)
    axes = figure.add_subplot()
    axes.set_title(title)
    return figure, axes
