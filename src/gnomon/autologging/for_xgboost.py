"""XGBoost autologging: ``xgboost.train`` and the scikit-learn wrappers' ``fit``.

``xgboost.train`` logs its params (with ``num_boost_round`` and early stopping's settings),
each evaluation metric per boosting round through a callback added to the caller's
(``<eval name>-<metric>``, e.g. ``validation-logloss``, step = round), ``best_iteration``
and ``best_score`` when early stopping kept them, the feature importance as
``feature_importance.json``, the Booster with a contract read from (a sample of) the
DMatrix, and the DMatrix's shape and digest. ``XGBClassifier.fit`` and its siblings log
``get_params()``, their ``eval_set`` results per round, the fitted estimator and the
training data's tags.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gnomon.autologging import session
from gnomon.autologging.calls import (
    IMPORTANCE_FILE,
    Booster,
    TrainingData,
    logging_estimator_fit,
    logging_train,
    with_own_fit,
)
from gnomon.autologging.imports import when_imported
from gnomon.autologging.patching import patch, safely
from gnomon.autologging.session import EXAMPLE_ROWS, Options
from gnomon.tracking import fluent

LIBRARY = "xgboost"
IMPORTANCE_TYPES = ("weight", "gain", "cover")


def enable(options: Options) -> None:
    """Patch XGBoost's training calls, now or when XGBoost is imported; ``autolog`` calls
    this."""
    when_imported(LIBRARY, "xgboost", lambda: _patch(options))


def _patch(options: Options) -> None:
    import xgboost
    from xgboost.sklearn import XGBModel

    booster = Booster(LIBRARY, _train_params, _train_data, _metrics_callback, _log_booster)
    patch(LIBRARY, xgboost, "train", lambda original: logging_train(original, options, booster))
    for cls in with_own_fit(XGBModel):
        patch(LIBRARY, cls, "fit", lambda original: _logging_fit(original, options))


def _train_params(given: Mapping[str, Any]) -> dict[str, Any]:
    params = _params_dict(given.get("params") or {})
    params["num_boost_round"] = given.get("num_boost_round", 10)
    for key in ("early_stopping_rounds", "maximize"):
        if given.get(key) is not None:
            params[key] = given[key]
    return params


def _train_data(given: Mapping[str, Any], options: Options) -> TrainingData:
    description = None
    if options.log_datasets:
        description = safely("tag the training data", _tag_dmatrix, given["dtrain"])
    example = None
    if options.log_models:
        example = safely("read an input example", dmatrix_example, given["dtrain"])
    return TrainingData(description, lambda booster: example)


def _params_dict(params: Any) -> dict[str, Any]:
    """XGBoost's params as a dict; a list of pairs may repeat a key (``eval_metric``)."""
    if isinstance(params, Mapping):
        return dict(params)
    grouped: dict[str, list[Any]] = {}
    for key, value in params:
        grouped.setdefault(str(key), []).append(value)
    return {key: values[0] if len(values) == 1 else values for key, values in grouped.items()}


def _metrics_callback() -> Any:
    from xgboost.callback import TrainingCallback

    class LogMetrics(TrainingCallback):
        """Logs every evaluation result of a round as it is computed."""

        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            safely("log the round's metrics", _log_round, evals_log, epoch)
            return False  # never stops training

    return LogMetrics()


def _log_round(evals_log: Mapping[str, Mapping[str, list[Any]]], step: int) -> None:
    point = {
        f"{data}-{metric}": values[-1]
        for data, metrics in evals_log.items()
        for metric, values in metrics.items()
        if values
    }
    session.log_metrics(point, step)


def _log_booster(booster: Any) -> None:
    safely("log the best iteration", _log_best, booster)
    safely("log the feature importance", _log_importance, booster)


def _log_best(booster: Any) -> None:
    best_iteration = booster.attr("best_iteration")
    if best_iteration is None:
        return
    metrics: dict[str, float] = {"best_iteration": int(best_iteration)}
    best_score = booster.attr("best_score")
    if best_score is not None:
        metrics["best_score"] = float(best_score)
    session.log_metrics(metrics)


def _log_importance(booster: Any) -> None:
    importance = {}
    for kind in IMPORTANCE_TYPES:
        # A linear booster knows only "weight"; the others are left out for it.
        scores = safely(f"compute {kind} importance", booster.get_score, importance_type=kind)
        if scores:
            importance[kind] = {name: float(score) for name, score in scores.items()}
    if importance:
        fluent.log_dict(importance, IMPORTANCE_FILE)


def _tag_dmatrix(dmatrix: Any) -> str | None:
    """Tag shape and digest of a DMatrix, read back from it (every row up to the digest's
    sample size; evenly spaced rows past it); returns them ``session.described``."""
    rows = dmatrix.num_row()
    stride = max(1, rows // session.DATASET_ROWS_SAMPLED)
    sample = dmatrix if stride == 1 else dmatrix.slice(list(range(0, rows, stride)))
    tags = session.dataset_tags(sample.get_data())
    tags["training.rows"] = str(rows)
    fluent.set_tags(tags)
    return session.described(tags)


def dmatrix_example(dmatrix: Any, rows: int = EXAMPLE_ROWS) -> Any:
    """The first ``rows`` rows of a DMatrix as a DataFrame (its feature names) or an array,
    with missing entries as NaN, as XGBoost reads them; None for one that cannot give its
    data back (a QuantileDMatrix)."""
    import numpy as np
    import pandas as pd

    count = min(rows, dmatrix.num_row())
    part = dmatrix if count == dmatrix.num_row() else dmatrix.slice(list(range(count)))
    sparse = part.get_data().tocoo()
    dense = np.full(sparse.shape, np.nan)
    dense[sparse.row, sparse.col] = sparse.data
    names = dmatrix.feature_names
    return pd.DataFrame(dense, columns=list(names)) if names else dense


def _logging_fit(original: Callable[..., Any], options: Options) -> Callable[..., Any]:
    return logging_estimator_fit(LIBRARY, original, options, _log_fitted)


def _log_fitted(estimator: Any) -> None:
    booster = safely("read the booster", estimator.get_booster)
    if booster is not None:
        _log_booster(booster)
