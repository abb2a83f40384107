"""Pipelines of standard components the component tests run (importable by the workers)."""

from __future__ import annotations

from typing import Any

import pandas as pd

import gnomon
from gnomon.pipelines import components as c

TARGET = "species"


@gnomon.pipeline
def train_and_register(
    dataset: str,
    model_name: str,
    estimator: str = c.DEFAULT_ESTIMATOR,
    params: dict[str, Any] | None = None,
    thresholds: dict[str, Any] | None = None,
) -> Any:
    """From a pinned version, so that a repeated run is cached from its first step."""
    frame = c.load(dataset)
    rows, holdout = c.split(frame, 0.3, 7, TARGET)
    model, uri = c.train(rows, TARGET, estimator, params, dataset)
    gate = c.evaluate(model, holdout, TARGET, model_name, thresholds=thresholds)
    return c.register(uri, gate, model_name)


@gnomon.pipeline
def ingest_and_predict(source: str, name: str, model: str) -> Any:
    version = c.ingest(source, name)
    c.statistics(version)
    wider = c.transform(c.load(version), f"{__name__}:with_petal_area")
    return c.batch_predict(model, version), wider


def with_petal_area(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(petal_area=frame["petal length (cm)"] * frame["petal width (cm)"])


def not_a_frame(frame: pd.DataFrame) -> int:
    return len(frame)
