"""The standard components: TFX's set as ordinary ``@gnomon.step`` steps over gnomon's own
data, tracking, evaluation, registry and serving.

::

    ingest / dataset_version ─▶ validate ─▶ load ─▶ transform ─▶ split ─▶ train
        ─▶ evaluate (the gate) ─▶ register ─▶ batch_predict

They run in a pipeline's worker processes through the fluent client (``GNOMON_URI``), and
connect by type: a ``DatasetVersion`` or ``ModelVersion`` output is recorded as a link to
that object, DataFrames travel as Parquet, fitted models pickled. ``train``, ``evaluate``
and ``register`` log to tracking runs nested under the pipeline's run, named after the
step. See ``gnomon.pipelines.examples.training`` for a whole training pipeline.
"""

from gnomon.pipelines.components.batch import batch_predict
from gnomon.pipelines.components.data import (
    Validated,
    dataset_version,
    ingest,
    load,
    statistics,
    validate,
)
from gnomon.pipelines.components.gate import evaluate, register
from gnomon.pipelines.components.training import DEFAULT_ESTIMATOR, Trained, train
from gnomon.pipelines.components.transform import Split, split, transform

__all__ = [
    "DEFAULT_ESTIMATOR",
    "Split",
    "Trained",
    "Validated",
    "batch_predict",
    "dataset_version",
    "evaluate",
    "ingest",
    "load",
    "register",
    "split",
    "statistics",
    "train",
    "transform",
    "validate",
]
