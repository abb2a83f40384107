"""``batch_predict``: a registered model over a dataset version, by the serving batch job."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from gnomon.data.entities import DatasetVersion
from gnomon.errors import InvalidInput
from gnomon.pipelines.components._common import client, datasets, version_of
from gnomon.pipelines.decorators import step
from gnomon.registry.entities import ModelVersion


@step(cache=False)
def batch_predict(
    model: ModelVersion | str | None,
    dataset: DatasetVersion | str,
    proba: bool = False,
    policy: str = "reject",
) -> pd.DataFrame:
    """The dataset version's rows with the model's ``prediction`` (and, with ``proba``, a
    ``probability_<i>`` column per class), as ``gnomon predict`` writes them: each chunk
    checked against the model's contract (``policy``: ``reject``, ``warn`` or ``clip``).

    ``model`` is a registered version (``register``'s output; its None, from a failed gate,
    fails the step) or a URI: ``models:/name@alias``, ``models:/name/3``, ``runs:/…``.
    Never cached: an alias or a dataset name can point elsewhere on the next run. The
    version is read whole, and predicted in this process (a pipeline's worker cannot start
    worker processes of its own).
    """
    from gnomon.serving.batch import predict_file

    if model is None:
        raise InvalidInput("batch_predict: no model, the gate registered none")
    uri = (
        f"models:/{model.model_name}/{model.version}" if isinstance(model, ModelVersion) else model
    )
    found = client()
    version = version_of(dataset)
    frame = datasets().load(version.ref)
    with tempfile.TemporaryDirectory(prefix="gnomon-batch-") as tmp:
        source, target = Path(tmp) / "input.parquet", Path(tmp) / "predictions.parquet"
        frame.to_parquet(source)
        predict_file(
            uri,
            source,
            target,
            workers=1,
            policy=policy,
            proba=proba,
            client=found,
            on_progress=lambda done, total: None,
        )
        return pd.read_parquet(target)


__all__ = ["batch_predict"]
