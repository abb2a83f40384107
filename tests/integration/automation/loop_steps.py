"""The retraining pipeline the closed-loop tests' policies start, importable by the
worker's step processes: train on fresh rows whose label is ``x > threshold`` (the concept
the drifted traffic follows), log the model with its training data, register it as the
next version of ``churn`` without moving any alias (the loop's rollout does that)."""

from __future__ import annotations

from typing import Any

import gnomon
from gnomon.pipelines.components.gate import register
from tests.fixtures.monitoring import frame


@gnomon.step(cache=False)
def train(seed: int, threshold: float) -> str:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rows = frame(1000, seed=seed, shift=threshold)
    version = gnomon.log_dataset(rows, "train")
    features = ColumnTransformer(
        [("country", OneHotEncoder(handle_unknown="ignore"), ["country"])],
        remainder="passthrough",
    )
    model = make_pipeline(features, LogisticRegression())
    model.fit(rows, (rows["x"] > threshold).astype(int))
    with gnomon.start_run():
        return gnomon.log_model(model, "model", input_example=rows, training_data=version.ref)


@gnomon.pipeline
def retrain(threshold: float = 2.0, alert: dict[str, Any] = {}) -> None:  # noqa: B006 - JSON
    uri = train(7, threshold)
    register(uri, {"passed": True}, "churn", None)
