"""The demo's tuning: a random forest's hyperparameters searched in parallel for the best F1
on the validation split, every trial a run that logs its model, and the best registered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gnomon

EXPERIMENT = "demo-tuning"  # the study's run and its trials, apart from the demo's models
MODEL_NAME = "demo-tuned-classifier"
ALIAS = "staging"
SPACE = {
    "n_estimators": {"type": "int", "low": 10, "high": 200, "log": True},
    "max_depth": {"type": "int", "low": 2, "high": 16},
    "min_samples_leaf": {"type": "int", "low": 1, "high": 10},
    "max_features": {"type": "categorical", "choices": ["sqrt", "log2", None]},
}
SECONDS = 60.0  # the full demo tunes for a minute at most
TRIALS, QUICK_TRIALS = 120, 6
WORKERS = 2


@dataclass(frozen=True, slots=True)
class TuningDemo:
    study: str
    trials: dict[str, int]  # by state
    best_f1: float
    best_params: dict[str, Any]
    registered: str  # "demo-tuned-classifier version 1 as staging"


def objective(trial: Any) -> float:
    """A forest with the trial's parameters, scored by F1 on the validation rows; its model's
    contract takes its ranges from the training data's dataset version, which the trial's
    run records as its input."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import f1_score

    data = trial.fixed
    model = RandomForestClassifier(**trial.params, random_state=0, n_jobs=1)
    model.fit(data["x_train"], data["y_train"])
    gnomon.log_model(
        model, "model", input_example=data["x_valid"].head(3), training_data=data["dataset"]
    )
    return float(f1_score(data["y_valid"], model.predict(data["x_valid"])))


def run_tuning(
    x_train: Any, y_train: Any, x_valid: Any, y_valid: Any, dataset: str, quick: bool
) -> TuningDemo:
    """Tune on the split; ``dataset`` is the training rows' version (``NAME@VERSION``)."""
    data = {
        "x_train": x_train,
        "y_train": y_train,
        "x_valid": x_valid,
        "y_valid": y_valid,
        "dataset": dataset,
    }
    gnomon.set_experiment(EXPERIMENT)
    result = gnomon.tune(
        objective,
        SPACE,
        n_trials=QUICK_TRIALS if quick else TRIALS,
        direction="maximize",
        metric_names=["f1"],
        timeout=None if quick else SECONDS,
        parallelism=WORKERS,
        params=data,
        seed=0,
        register=MODEL_NAME,
        alias=ALIAS,
    )
    version = result.registered
    return TuningDemo(
        study=result.study.name,
        trials=result.states,
        best_f1=result.best.value,
        best_params=result.best.params,
        registered=f"{version.model_name} version {version.version} as {ALIAS}",
    )
