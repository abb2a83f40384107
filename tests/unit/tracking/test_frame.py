"""Runs as a DataFrame: the same runs and values as the object search."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import gnomon
from gnomon.errors import InvalidInput
from gnomon.tracking.entities import Run
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.server import LiveServer


@pytest.fixture
def runs(gnomon_home: Path) -> list[Run]:
    gnomon.set_experiment("frames")
    with gnomon.start_run(name="parent") as parent:
        with gnomon.start_run(name="rf", nested=True, tags={"team": "growth"}):
            gnomon.log_params({"model": "rf", "depth": 8})
            gnomon.log_metric("acc", 0.5, step=0)
            gnomon.log_metric("acc", 0.9, step=1)  # the latest value is the one shown
        with gnomon.start_run(name="gb", nested=True):
            gnomon.log_params({"model": "gb"})
            gnomon.log_metrics({"acc": 0.8, "f1": 0.7})
    found = list(gnomon.get_client().search_runs("frames"))
    assert parent.id in {run.id for run in found}
    return found


def test_frame_equals_object_search(runs: list[Run]) -> None:
    client = gnomon.get_client()
    page = client.search_runs("frames", order_by=["name ASC"])
    frame = client.search_runs("frames", order_by=["name ASC"], output="pandas")
    assert list(frame["run_id"]) == [run.id for run in page]
    for run, (_, row) in zip(page, frame.iterrows(), strict=True):
        assert row["experiment_id"] == run.experiment_id
        assert row["name"] == run.name and row["status"] == run.status.value
        assert row["start_time"] == pd.Timestamp(run.start_time, unit="ms", tz="UTC")
        assert row["end_time"] == pd.Timestamp(run.end_time, unit="ms", tz="UTC")
        parent = row["parent_run_id"]
        assert (None if pd.isna(parent) else parent) == run.parent_run_id
        for group in ("params", "metrics", "tags"):
            values = getattr(run, group)
            cells = {c.split(".", 1)[1]: row[c] for c in frame.columns if c.startswith(group + ".")}
            assert {k: x for k, x in cells.items() if not pd.isna(x)} == values
    assert frame.loc[frame["name"] == "rf", "metrics.acc"].item() == 0.9
    assert math.isnan(frame.loc[frame["name"] == "rf", "metrics.f1"].item())
    assert str(frame["start_time"].dt.tz) == "UTC"
    assert frame["metrics.acc"].dtype == "float64"


def test_columns_follow_mlflow_convention(runs: list[Run]) -> None:
    frame = gnomon.get_client().search_runs("frames").to_pandas()
    attributes = ["run_id", "experiment_id", "name", "status", "start_time", "end_time"]
    assert list(frame.columns[:7]) == [*attributes, "parent_run_id"]
    assert {"params.model", "params.depth", "metrics.acc", "metrics.f1", "tags.team"} <= set(
        frame.columns
    )
    children = frame[frame["name"].isin(["rf", "gb"])]
    parent = frame.loc[frame["name"] == "parent", "run_id"].item()
    assert set(children["parent_run_id"]) == {parent}


def test_fluent_search_defaults_to_the_current_experiment(runs: list[Run]) -> None:
    frame = gnomon.search_runs(filter="params.model = 'rf'", output="pandas")
    assert list(frame["name"]) == ["rf"]
    assert [run.name for run in gnomon.search_runs(filter="metrics.acc > 0.85")] == ["rf"]


def test_empty_search_has_the_attribute_columns(gnomon_home: Path) -> None:
    gnomon.set_experiment("empty")
    frame = gnomon.search_runs(output="pandas")
    assert frame.empty and "run_id" in frame.columns and "start_time" in frame.columns


def test_unknown_output_is_refused(runs: list[Run]) -> None:
    with pytest.raises(InvalidInput, match="output 'arrow'"):
        gnomon.get_client().search_runs("frames", output="arrow")  # type: ignore[call-overload]


def test_remote_frame_after_switching_to_a_server(
    gnomon_home: Path, request: pytest.FixtureRequest
) -> None:
    server: LiveServer = request.getfixturevalue("open_server")
    assert server.services.database is not None
    workspace = fresh_workspace(server.services.database).workspace
    gnomon.set_tracking_uri(server.url)
    gnomon.set_workspace(workspace)
    gnomon.set_experiment("remote-frames")
    with gnomon.start_run(name="r", tags={"k": "v"}) as run:
        gnomon.log_param("p", 1)
        gnomon.log_metric("m", 0.25)
    frame = gnomon.search_runs(output="pandas")
    assert frame[["run_id", "params.p", "metrics.m", "tags.k"]].values.tolist() == [
        [run.id, "1", 0.25, "v"]
    ]
    assert gnomon.get_client().get_run(run.id).metrics == {"m": 0.25}
