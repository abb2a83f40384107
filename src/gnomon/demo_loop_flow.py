"""The demo's retraining pipeline, which the closed loop's policy starts when the monitor
alerts: train on the newest version of the training data, register the model as the next
version without moving any alias (the rollout does that, if the model earns it)."""

from __future__ import annotations

from typing import Any

import gnomon
from gnomon.pipelines.components.gate import register

EXPERIMENT = "demo-loop"
MODEL = "demo-loop-classifier"
DATASET = "demo-loop-train"
TARGET = "target"


@gnomon.step(cache=False)
def retrain_on_latest(dataset: str, target: str) -> str:
    """A scaled logistic regression on every row of ``dataset``'s newest version."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    version = gnomon.get_client().datasets.version(dataset)  # type: ignore[attr-defined]
    rows = gnomon.load_dataset(version.ref)
    features = rows.drop(columns=[target])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(features, rows[target])
    with loop_run("retrain"):
        return gnomon.log_model(model, "model", input_example=features, training_data=version.ref)


def loop_run(name: str) -> gnomon.ActiveRun:
    """A run of the loop's own experiment, whatever experiment is active."""
    from gnomon.errors import NotFound

    client = gnomon.get_client()
    try:
        experiment = client.get_experiment(EXPERIMENT)
    except NotFound:
        experiment = client.create_experiment(EXPERIMENT)
    return gnomon.start_run(run_id=client.create_run(experiment.id, name).id)


@gnomon.pipeline
def retrain(dataset: str = DATASET, alert: dict[str, Any] = {}) -> None:  # noqa: B006 - JSON
    uri = retrain_on_latest(dataset, TARGET)
    register(uri, {"passed": True}, MODEL, None)
