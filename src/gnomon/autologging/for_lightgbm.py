"""LightGBM autologging: ``lightgbm.train`` and the scikit-learn wrappers' ``fit``.

``lightgbm.train`` logs its params (with ``num_boost_round``), each evaluation result per
iteration through a callback added to the caller's (``<valid name>-<metric>``, e.g.
``valid_0-binary_logloss``, step = iteration), ``best_iteration`` under early stopping, the
split and gain feature importance as ``feature_importance.json``, the Booster with a contract
read from the Dataset's raw data (taken before LightGBM frees it), and that data's shape and
digest. ``LGBMClassifier.fit`` and its siblings log ``get_params()``, their ``eval_set``
results per iteration, the fitted estimator and the training data's tags.
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

LIBRARY = "lightgbm"
IMPORTANCE_TYPES = ("split", "gain")
# After LightGBM's own record_evaluation (20), before early stopping (30) may end training.
CALLBACK_ORDER = 25


def enable(options: Options) -> None:
    """Patch LightGBM's training calls, now or when LightGBM is imported; ``autolog``
    calls this."""
    when_imported(LIBRARY, "lightgbm", lambda: _patch(options))


def _patch(options: Options) -> None:
    import lightgbm

    booster = Booster(LIBRARY, _train_params, _train_data, lambda: _log_iteration, _log_booster)
    patch(LIBRARY, lightgbm, "train", lambda original: logging_train(original, options, booster))
    for cls in with_own_fit(lightgbm.LGBMModel):
        patch(LIBRARY, cls, "fit", lambda original: _logging_fit(original, options))


def _train_params(given: Mapping[str, Any]) -> dict[str, Any]:
    params = dict(given.get("params") or {})
    params["num_boost_round"] = given.get("num_boost_round", 100)
    return params


def _train_data(given: Mapping[str, Any], options: Options) -> TrainingData:
    # The raw data, read now: LightGBM frees it once the Dataset is constructed.
    data = safely("read the training data", _raw_data, given["train_set"])
    description = None
    if options.log_datasets and data is not None:
        description = session.log_dataset(data)
    return TrainingData(description, lambda booster: _example(data, booster))


def _raw_data(dataset: Any) -> Any:
    data = getattr(dataset, "data", None)
    # A file path, or a list of arrays for LightGBM's sequences: no table to describe.
    return None if isinstance(data, str | bytes | list) or hasattr(data, "__fspath__") else data


def _log_iteration(env: Any) -> None:
    safely("log the iteration's metrics", _log_results, env.evaluation_result_list, env.iteration)


_log_iteration.order = CALLBACK_ORDER  # type: ignore[attr-defined]


def _log_results(results: list[tuple[Any, ...]], step: int) -> None:
    point = {f"{item[0]}-{item[1]}": item[2] for item in results}
    session.log_metrics(point, step)


def _log_booster(booster: Any) -> None:
    best = getattr(booster, "best_iteration", 0)
    if isinstance(best, int) and best > 0:  # 0: no early stopping
        session.log_metrics({"best_iteration": best})
    safely("log the feature importance", _log_importance, booster)


def _log_importance(booster: Any) -> None:
    names = booster.feature_name()
    importance = {
        kind: dict(zip(names, map(float, booster.feature_importance(kind)), strict=True))
        for kind in IMPORTANCE_TYPES
    }
    fluent.log_dict(importance, IMPORTANCE_FILE)


def _example(data: Any, booster: Any) -> Any:
    """The first rows of the training data, named as the Booster names its features."""
    import numpy as np
    import pandas as pd

    if data is None:
        return None
    if isinstance(data, pd.DataFrame):
        return data.iloc[:EXAMPLE_ROWS]
    if hasattr(data, "tocsr"):  # SciPy sparse
        data = data.tocsr()[:EXAMPLE_ROWS].toarray()
    rows = np.asarray(data[:EXAMPLE_ROWS])
    return pd.DataFrame(rows, columns=booster.feature_name())


def _logging_fit(original: Callable[..., Any], options: Options) -> Callable[..., Any]:
    return logging_estimator_fit(LIBRARY, original, options, _log_fitted)


def _log_fitted(estimator: Any) -> None:
    booster = getattr(estimator, "booster_", None)
    if booster is not None:
        _log_booster(booster)
