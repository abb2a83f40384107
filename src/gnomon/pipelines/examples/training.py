"""A whole training pipeline from the standard components, ready to run on the demo's data.

::

    validate ─▶ load ─▶ split ─▶ train ─▶ evaluate (the gate) ─▶ register

It checks the latest version of a dataset against the dataset's schema, trains on part of it
and judges the model on the rest against the current champion (``model_name@alias``): the
model is registered, and the alias moved to it, only when it is no worse. After
``gnomon demo`` (which versions ``demo-breast-cancer``)::

    gnomon pipeline run gnomon.pipelines.examples.training:training_pipeline

or from Python::

    from gnomon.pipelines.examples.training import training_pipeline
    result = gnomon.run_pipeline(training_pipeline)
    result.output("evaluate")  # {"passed": True, "metrics": {...}, "champion": None, ...}

Run it again unchanged and every step after ``validate`` comes from the cache (nothing is
registered twice); a worse model fails the gate and registers nothing, e.g.
``-p estimator=sklearn.dummy.DummyClassifier``.
"""

from __future__ import annotations

from typing import Any

from gnomon.pipelines.components import evaluate, load, register, split, train, validate
from gnomon.pipelines.components.training import DEFAULT_ESTIMATOR
from gnomon.pipelines.decorators import pipeline

DATASET = "demo-breast-cancer"  # what `gnomon demo` versions: features and a 0/1 target
MODEL_NAME = "demo-pipeline-classifier"


@pipeline
def training_pipeline(
    dataset: str = DATASET,
    target: str = "target",
    model_name: str = MODEL_NAME,
    estimator: str = DEFAULT_ESTIMATOR,
    params: dict[str, Any] | None = None,
    thresholds: dict[str, Any] | None = None,
    alias: str = "production",
    test_size: float = 0.25,
    seed: int = 42,
) -> Any:
    """Validate the latest ``dataset``, train ``estimator`` (with ``params``) to predict
    ``target``, gate it against ``model_name@alias`` on a held-out ``test_size`` of the rows
    (``thresholds`` as ``evaluate`` takes them, e.g. ``{"f1": 0.9}``) and register it."""
    version, _report = validate(dataset)
    frame = load(version)
    rows, holdout = split(frame, test_size, seed, target)
    model, uri = train(rows, target, estimator, params, version, seed)
    gate = evaluate(model, holdout, target, model_name, alias, thresholds)
    return register(uri, gate, model_name, alias)


__all__ = ["training_pipeline"]
