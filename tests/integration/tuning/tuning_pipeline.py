"""A pipeline with the tuning step in place of ``train``: split, tune, gate, register."""

from __future__ import annotations

from typing import Any

import pandas as pd

from gnomon.pipelines.components import evaluate, register, split
from gnomon.pipelines.decorators import pipeline, step
from gnomon.tuning.components import tune

SPACE = {"max_depth": {"type": "int", "low": 1, "high": 6}}


@step
def breast_cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    frame: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    return frame


@pipeline
def tuned(n_trials: int = 4) -> Any:
    frame = breast_cancer()
    rows, holdout = split(frame, 0.25, 0, "target")
    model, uri = tune(rows, "target", SPACE, "sklearn.tree.DecisionTreeClassifier", n_trials)
    gate = evaluate(model, holdout, "target", "tuned-tree", "production", None)
    return register(uri, gate, "tuned-tree", "production")
