"""Contract column names that collide with the records' own columns, or differ from another
only by case, once broke every run of a monitor (found by an attacker's review): they are read as
written, whatever they hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gnomon
from gnomon.config import Settings
from gnomon.predictions.entities import AnsweredRequest
from gnomon.predictions.records import RecordWriter
from gnomon.predictions.storage import predictions_store

HOUR = 3_600_000


def _deployed(columns: list[str]) -> tuple[gnomon.Client, int]:
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    training = pd.DataFrame({c: rng.normal(0, 1, 500) for c in columns})
    version = gnomon.log_dataset(training, "train")
    model = LinearRegression().fit(training, training[columns[0]])
    with gnomon.start_run():
        uri = gnomon.log_model(model, "model", input_example=training, training_data=version.ref)
    gnomon.register_model(uri, "m")
    client = gnomon.get_client()
    client.deployments.create("web", "m")
    now = gnomon._types.now_ms()
    base = now - now % HOUR - 3 * HOUR
    writer = RecordWriter(predictions_store(Settings().artifact_root, "default"))
    for index in range(100):
        one = training.iloc[[index]].reset_index(drop=True)
        writer.submit_request(
            AnsweredRequest(f"r-{index}", base + index, "web", "m", 1, "primary", one, [0.5], 1.0)
        )
    writer.close()
    return client, base


@pytest.mark.parametrize(
    "columns",
    [
        ["x", "X"],
        ["x", "role"],
        ["x", "time_ms"],
        ["x", "request_id"],
        ["x", "prediction"],
    ],
)
def test_a_model_whose_input_names_collide_can_be_monitored(
    gnomon_home: Path, columns: list[str]
) -> None:
    from gnomon.monitoring.entities import MonitorSpec

    client, base = _deployed(columns)
    client.monitors.create("mon", MonitorSpec("web", window_s=3600))
    run = client.monitors.run("mon", until_ms=base + HOUR)
    assert [w.rows for w in run.windows] == [100]
    assert run.windows[0].figure(f"drift.score.{columns[1]}") is not None
