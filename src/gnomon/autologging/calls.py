"""The run around one autologged training call, for the libraries whose wrappers share it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gnomon.autologging import session
from gnomon.autologging.patching import running, safely

IMPORTANCE_FILE = "feature_importance.json"  # the boosters' feature importance, per kind
EXAMPLE_ROWS = 1_000  # training rows a model's contract is inferred from


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
