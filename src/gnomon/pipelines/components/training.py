"""``train``: fit an estimator named by its import path, tracked in a run of its own."""

from __future__ import annotations

import inspect
from typing import Any, NamedTuple

import pandas as pd

from gnomon.data.entities import DatasetVersion
from gnomon.errors import InvalidInput
from gnomon.pipelines.components._common import imported, step_run, version_of
from gnomon.pipelines.decorators import step

DEFAULT_ESTIMATOR = "sklearn.ensemble.RandomForestClassifier"
_EXAMPLE_ROWS = 5


class Trained(NamedTuple):
    model: Any  # the fitted estimator, pickled between steps
    uri: str  # where train logged it: runs:/<run id>/model, what register registers


@step
def train(
    frame: pd.DataFrame,
    target: str,
    estimator: str = DEFAULT_ESTIMATOR,
    params: dict[str, Any] | None = None,
    training_data: DatasetVersion | str | None = None,
    seed: int | None = 0,
) -> Trained:
    """Fit ``estimator`` (``"package.module.Class"`` or ``"module:Class"``, built with
    ``params``) on every column of ``frame`` but ``target``, and predict ``target``.

    The fit runs in a tracking run named after the step (nested under the pipeline's run),
    which logs the estimator, the target and ``params`` as params, the row count, and the
    fitted model, with an input contract from the training data: ``training_data`` (the
    dataset version ``frame`` came from, recorded as the run's training input) or else
    ``frame`` itself. ``seed`` is the estimator's ``random_state`` unless ``params`` sets
    one, so the same data gives the same model.

    Outputs ``model`` (the fitted estimator) and ``uri`` (``runs:/…/model``, to register).
    """
    if target not in frame.columns:
        columns = ", ".join(map(str, frame.columns[:30]))
        raise InvalidInput(f"train: no target column {target!r}; the columns are {columns}")
    built = build_estimator(estimator, dict(params or {}), seed)
    features = frame.drop(columns=[target])
    if features.shape[1] == 0:
        raise InvalidInput(f"train: the frame has no column but the target {target!r}")
    ref = None if training_data is None else version_of(training_data).ref

    import gnomon

    with step_run("train"):
        gnomon.log_params({**(params or {}), "estimator": estimator, "target": target})
        gnomon.log_metric("training_rows", len(frame))
        built.fit(features, frame[target])
        uri = gnomon.log_model(
            built,
            "model",
            input_example=features.head(_EXAMPLE_ROWS),
            training_data=ref if ref is not None else features,
        )
    return Trained(built, uri)


def build_estimator(estimator: str, params: dict[str, Any], seed: int | None) -> Any:
    """``estimator`` made with ``params``, ``seed`` its ``random_state`` unless set."""
    factory = imported(estimator, "estimator")
    if not callable(factory):
        raise InvalidInput(f"estimator {estimator[:200]!r} is not a class")
    if seed is not None and "random_state" not in params and _takes(factory, "random_state"):
        params["random_state"] = seed
    try:
        built = factory(**params)
    except TypeError as exc:
        raise InvalidInput(f"estimator {estimator[:200]!r}: {exc}") from None
    if not hasattr(built, "fit"):
        raise InvalidInput(f"estimator {estimator[:200]!r} has no fit method")
    return built


def _takes(factory: Any, name: str) -> bool:
    try:
        return name in inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False


__all__ = ["DEFAULT_ESTIMATOR", "Trained", "build_estimator", "train"]
