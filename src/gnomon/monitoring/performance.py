"""Live performance once outcomes arrive: overall, per arm (champion and challenger side by
side) and per value of a segment column, with the evaluation capability's metrics.

Shadow arms answer a copy of each request, so their records share its request id and its
outcome: they are scored as an arm, never in the overall figures, which are what users got.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gnomon.monitoring.entities import MAX_SEGMENT_VALUES, Figure, figure

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CLASSIFICATION = ("accuracy", "precision", "recall", "f1", "roc_auc")
REGRESSION = ("rmse", "mae")


def performance(
    joined: pd.DataFrame, task: str, segment: str | None, segment_column: str = ""
) -> tuple[list[Figure], dict[str, Any]]:
    """Figures from ``joined`` (records with ``outcome``/``outcome_label`` columns, null
    where none arrived): counts always, metrics where outcomes exist. The values of input
    ``segment`` are in ``segment_column``."""
    scored = joined[joined["outcome_label"].notna()]
    live = scored[scored["role"] != "shadow"]
    figures = [figure("performance.outcomes", float(len(live)), "outcomes")]
    if scored.empty:
        return figures, {"task": None, "outcomes": 0}
    kind = _task(scored, task)
    overall = _metrics(live, kind)
    figures += _named("performance", overall, arm="all", segment_column="", segment="")
    arms: dict[str, Any] = {}
    for (role, version), rows in scored.groupby(["role", "model_version"], dropna=False):
        label = str(role)
        metrics = _metrics(rows, kind)
        arms[label] = {
            "version": None if version != version else int(version),
            "outcomes": len(rows),
            "metrics": metrics,
        }
        figures += _named(
            f"performance.arm.{label}", metrics, arm=label, segment_column="", segment=""
        )
    segments: dict[str, Any] = {}
    if segment is not None and segment_column in live.columns:
        column = live[segment_column]
        values = column.astype(object).where(column.notna(), "(missing)").map(str)
        for value in values.value_counts().index[:MAX_SEGMENT_VALUES]:
            metrics = _metrics(live[values == value], kind)
            segments[value] = {"outcomes": int((values == value).sum()), "metrics": metrics}
            figures += _named(
                f"performance.segment.{segment}={value}",
                metrics,
                arm="all",
                segment_column=segment,
                segment=value,
            )
    details = {
        "task": kind,
        "outcomes": len(live),
        "overall": overall,
        "arms": arms,
        "segment": segment,
        "segments": segments,
    }
    return figures, details


def _task(rows: pd.DataFrame, task: str) -> str:
    if task != "auto":
        return task
    numbers = rows["outcome"]
    if numbers.notna().all() and rows["prediction"].notna().all():
        values = numbers.to_numpy()
        if len(set(values.tolist())) > 10 or (values != values.round()).any():
            return "regression"
    return "classification"


def _metrics(rows: pd.DataFrame, kind: str) -> dict[str, float | None]:
    import numpy as np

    from gnomon.evaluation.metrics import compute_metrics
    from gnomon.evaluation.predictions import Predictions

    if rows.empty:
        return {}
    if kind == "regression":
        usable = rows[rows["outcome"].notna() & rows["prediction"].notna()]
        if usable.empty:
            return {}
        found = Predictions(usable["outcome"].to_numpy(float), usable["prediction"].to_numpy(float))
        scores = compute_metrics("regressor", found)
        return {k: _finite(scores.get(k)) for k in REGRESSION}
    targets = _labels(rows["outcome"], rows["outcome_label"])
    proba = _probabilities(rows, targets)
    predicted = (
        np.where(proba >= 0.5, "1", "0").astype(object)
        if proba is not None
        else _labels(rows["prediction"], rows["prediction_label"])
    )
    classes = sorted(set(targets.tolist()) | set(predicted.tolist()), key=str)
    positive = _positive(classes)
    found = Predictions(
        targets,
        predicted,
        classes=classes,
        proba=None if proba is None else np.column_stack([1 - proba, proba]),
        pos_label=positive,
    )
    if proba is not None and classes != ["0", "1"]:
        found = Predictions(targets, predicted, classes, None, positive)
    scores = compute_metrics("classifier", found)
    return {k: _finite(scores.get(k)) for k in CLASSIFICATION if k in scores}


def _labels(numbers: pd.Series, texts: pd.Series) -> np.ndarray:
    """Labels as text, with 1 and 1.0 the same label."""
    import numpy as np

    values = numbers.to_numpy(float, na_value=np.nan)
    integral = ~np.isnan(values) & (values == np.round(values))
    out = texts.astype(object).to_numpy().copy()
    out[integral] = [str(int(v)) for v in values[integral]]
    return out.astype(object)


def _probabilities(rows: pd.DataFrame, targets: np.ndarray) -> np.ndarray | None:
    """The predictions as the positive class's probability, when they are scores in [0, 1]
    (not all 0 and 1) for outcomes of 0 and 1."""
    import numpy as np

    scores = rows["prediction"].to_numpy(float, na_value=np.nan)
    if np.isnan(scores).any() or not set(targets.tolist()) <= {"0", "1"}:
        return None
    if (scores < 0).any() or (scores > 1).any() or np.isin(scores, (0.0, 1.0)).all():
        return None
    return scores


def _positive(classes: list[Any]) -> Any:
    for candidate in ("1", "true", "True", "yes", "positive"):
        if candidate in classes:
            return candidate
    return classes[-1] if classes else None


def _finite(value: float | None) -> float | None:
    return None if value is None or value != value else float(value)


def _named(prefix: str, metrics: dict[str, float | None], **labels: str) -> list[Figure]:
    return [
        figure(f"{prefix}.{name}", value, "performance", metric=name, **labels)
        for name, value in metrics.items()
    ]


__all__ = ["performance"]
