"""``tune``, the tuning step: TFX's Tuner as an ordinary ``@gnomon.step``.

It searches an estimator's hyperparameters by cross-validation on the step's frame (every
trial a run, under a study run nested in the step's own), refits the best on the whole frame
and logs it as ``train`` does, so ``evaluate`` and ``register`` take it as they take
``train``'s output::

    split ─▶ tune ─▶ evaluate (the gate) ─▶ register
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from gnomon.errors import InvalidInput
from gnomon.pipelines.components._common import step_run
from gnomon.pipelines.components.training import DEFAULT_ESTIMATOR, Trained, build_estimator
from gnomon.pipelines.decorators import step

_EXAMPLE_ROWS = 5


@step
def tune(
    frame: pd.DataFrame,
    target: str,
    space: dict[str, Any],
    estimator: str = DEFAULT_ESTIMATOR,
    n_trials: int = 20,
    timeout: float | None = None,
    scoring: str | None = None,
    cv: int = 3,
    sampler: str = "tpe",
    seed: int | None = 0,
) -> Trained:
    """Tune ``estimator``'s parameters over ``space`` (``gnomon.tune``'s specs) for the best
    mean ``scoring`` (scikit-learn's name; default the estimator's own score) across ``cv``
    folds of ``frame``, in ``n_trials`` trials; then fit the best on all of ``frame``.

    Outputs ``model`` (the refitted estimator) and ``uri`` (``runs:/…/model``, to register).
    """
    import gnomon

    if target not in frame.columns:
        raise InvalidInput(f"tune: no target column {target!r}")
    if not isinstance(cv, int) or isinstance(cv, bool) or not 2 <= cv <= 100:
        raise InvalidInput(f"tune: cv must be an integer from 2 to 100, got {cv!r}")
    features, labels = frame.drop(columns=[target]), frame[target]

    def objective(trial: Any) -> float:
        from sklearn.model_selection import cross_val_score

        model = build_estimator(estimator, dict(trial.params), seed)
        return float(cross_val_score(model, features, labels, cv=cv, scoring=scoring).mean())

    with step_run("tune"):
        result = gnomon.tune(
            objective,
            space,
            n_trials,
            "maximize",  # scikit-learn's scores grow with quality (losses are negated)
            sampler=sampler,
            timeout=timeout,
            seed=seed,
            metric_names=["cv_score"],
            objective_ref=f"gnomon.tuning.components:tune({estimator})",
        )
        best = result.best
        gnomon.log_params({**best.params, "estimator": estimator, "target": target})
        gnomon.log_metrics({"best_cv_score": best.value, "training_rows": len(frame)})
        gnomon.set_tag("gnomon.tuning.study", result.study.name)
        model = build_estimator(estimator, dict(best.params), seed).fit(features, labels)
        uri = gnomon.log_model(
            model, "model", input_example=features.head(_EXAMPLE_ROWS), training_data=features
        )
    return Trained(model, uri)


__all__ = ["tune"]
