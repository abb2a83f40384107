"""The run around one autologged training call, and the wrappers that the boosting libraries
(XGBoost, LightGBM) share: their ``train`` function and their scikit-learn estimators' ``fit``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from gnomon.autologging import session
from gnomon.autologging.patching import inside, running, safely
from gnomon.autologging.session import Options
from gnomon.autologging.sklearn_values import params_of

IMPORTANCE_FILE = "feature_importance.json"  # the boosters' feature importance, per kind


@contextmanager
def autologged(library: str, name: str) -> Iterator[session.AutologRun | None]:
    """Mark ``library``'s call as running and give it the run to log to: the active one, or
    one named ``name`` that ends with the block (FAILED if the training raised). Yields None
    when gnomon could not open a run: the caller then only trains."""
    with running(library):
        run = safely("start a run", session.open_run, library, name)
        try:
            yield run
        except BaseException:
            if run is not None:
                run.finish(failed=True)
            raise
        if run is not None:
            run.finish()


def log_estimator_tags(estimator: Any) -> None:
    """``estimator_name`` and ``estimator_class`` tags, as the scikit-learn autolog sets."""
    from gnomon.tracking import fluent

    cls = type(estimator)
    tags = {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__name__}"}
    safely("tag the estimator", fluent.set_tags, tags)


def log_history(history: dict[str, dict[str, Any]]) -> None:
    """Log ``{data: {metric: [value per iteration]}}`` (``evals_result()``) as one metric
    ``<data>-<metric>`` per iteration, step = iteration."""
    series = {
        f"{data}-{metric}": values
        for data, metrics in history.items()
        for metric, values in metrics.items()
    }
    rounds = max((len(values) for values in series.values()), default=0)
    for step in range(rounds):
        point = {key: _value(values[step]) for key, values in series.items() if step < len(values)}
        session.log_metrics(point, step)


def _value(value: Any) -> Any:
    # xgboost.cv records (mean, std) pairs; the mean is the metric.
    return value[0] if isinstance(value, tuple | list) else value


def with_own_fit(base: type) -> list[type]:
    """``base`` and its subclasses that define ``fit`` themselves (XGBClassifier, ...); a
    subclass's ``super().fit`` then reaches a patched call that only trains."""
    found, todo = [], [base]
    while todo:
        cls = todo.pop()
        if "fit" in vars(cls) and cls not in found:
            found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


@dataclass(frozen=True, slots=True)
class TrainingData:
    """What a ``train`` call's data gives the model it logs: ``description`` for its lineage
    (``session.described``) and ``example(booster)``, the input its contract is read from."""

    description: str | None = None
    example: Callable[[Any], Any] = lambda booster: None


@dataclass(frozen=True, slots=True)
class Booster:
    """How one boosting library's ``train`` is logged, for ``logging_train``."""

    library: str
    params: Callable[[Mapping[str, Any]], Mapping[str, Any]]  # the call's arguments → params
    data: Callable[[Mapping[str, Any], Options], TrainingData]  # tags the data, before training
    callback: Callable[[], Any]  # a callback logging each iteration, added to the caller's
    log_booster: Callable[[Any], None]  # what the trained Booster logs beyond the model


def logging_train(
    original: Callable[..., Any], options: Options, booster: Booster
) -> Callable[..., Any]:
    """A ``train`` function that logs as ``booster`` says, in a run named after the library."""
    signature = inspect.signature(original)

    def train(*args: Any, **kwargs: Any) -> Any:
        if inside() is not None:
            return original(*args, **kwargs)
        try:
            call = signature.bind(*args, **kwargs)
        except TypeError:  # the library itself will say what is wrong with the arguments
            return original(*args, **kwargs)
        with autologged(booster.library, booster.library) as run:
            if run is None:
                return original(*args, **kwargs)
            given = call.arguments
            safely("log the params", lambda: session.log_params(booster.params(given)))
            data = safely("read the training data", booster.data, given, options)
            data = data or TrainingData()
            callback = safely("make the metrics callback", booster.callback)
            if callback is not None:
                given["callbacks"] = [*(given.get("callbacks") or []), callback]
            trained = original(*call.args, **call.kwargs)
            booster.log_booster(trained)
            if options.log_models:
                example = safely("read an input example", data.example, trained)
                session.log_model(trained, example, training_data=data.description)
        return trained

    return train


def logging_estimator_fit(
    library: str,
    original: Callable[..., Any],
    options: Options,
    log_fitted: Callable[[Any], None],
) -> Callable[..., Any]:
    """A scikit-learn style ``fit`` (XGBClassifier, LGBMRegressor, ...) that logs params,
    the training data, ``evals_result_`` per iteration, what ``log_fitted(estimator)`` logs
    and the fitted estimator."""

    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if inside() is not None:  # a subclass's super().fit, a pipeline's step, a search
            return original(self, *args, **kwargs)
        x = args[0] if args else kwargs.get("X")
        with autologged(library, type(self).__name__) as run:
            if run is None:
                return original(self, *args, **kwargs)
            log_estimator_tags(self)
            params = safely("read the estimator's params", params_of, self)
            if params:
                session.log_params(params)
            data = None
            if options.log_datasets and x is not None:
                data = session.log_dataset(x)
            result = original(self, *args, **kwargs)
            history = getattr(self, "evals_result_", None)
            if history:
                safely("log the eval results", log_history, history)
            log_fitted(self)
            if options.log_models and x is not None:
                session.log_model(self, x, training_data=data)
        return result

    return fit
