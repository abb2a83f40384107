"""The standard components in real pipeline runs: worker processes, an embedded store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import gnomon
from gnomon.errors import InvalidInput
from gnomon.pipelines import components as c
from gnomon.pipelines.context import StepContext, entered, left
from gnomon.pipelines.examples.training import training_pipeline
from tests.integration.pipelines import component_pipelines as pipelines

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")
DUMMY = "sklearn.dummy.DummyClassifier"


def _iris() -> pd.DataFrame:
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    names = dict(enumerate(data.target_names))
    return data.data.assign(species=data.target.map(names))


def test_the_gate_registers_a_good_model_refuses_a_worse_one_and_a_rerun_is_cached(
    gnomon_home: Path,
) -> None:
    ref = gnomon.log_dataset(_iris(), "iris").ref
    params = {"dataset": ref, "model_name": "iris-clf", "params": {"n_estimators": 20}}
    first = gnomon.run_pipeline(pipelines.train_and_register, params)
    version = first.output("register")
    assert (version.version, version.aliases) == (1, ["production"])
    gate = first.output("evaluate")
    assert gate["passed"] and gate["champion"] is None and gate["metrics"]["accuracy"] > 0.8
    client = gnomon.get_client()
    trained = client.get_run(version.run_id)  # registered from train's own run
    assert trained.name == "train" and trained.parent_run_id == first.run.tracking_run_id
    assert trained.params["estimator"] == c.DEFAULT_ESTIMATOR
    assert trained.params["n_estimators"] == "20"
    inputs = client.datasets.inputs(trained.id)
    assert [(i.ref, i.context) for i in inputs] == [(ref, "training")]
    judged = client.get_run(gate["run_id"])
    assert judged.name == "evaluate" and judged.parent_run_id == first.run.tracking_run_id

    worse = gnomon.run_pipeline(
        pipelines.train_and_register, {**params, "estimator": DUMMY, "params": {}}
    )
    refused = worse.output("evaluate")
    assert worse.status == "succeeded" and worse.output("register") is None
    assert not refused["passed"] and refused["champion"] == "models:/iris-clf/1"
    assert refused["champion_metrics"]["accuracy"] > refused["metrics"]["accuracy"]
    assert "worse by" in refused["reasons"][0]
    assert [v.version for v in client.registry.search_versions("iris-clf")] == [1]
    assert client.registry.get_version("iris-clf", "production").version == 1

    again = gnomon.run_pipeline(pipelines.train_and_register, params)
    assert again.counts() == {"cached": 5}
    assert again.output("register").version == 1
    # Judged again (new thresholds) the same model passes against itself: not registered twice.
    rejudged = gnomon.run_pipeline(
        pipelines.train_and_register, {**params, "thresholds": {"accuracy": 0.5}}
    )
    assert rejudged.steps["train"].status == "cached" and rejudged.output("evaluate")["passed"]
    assert rejudged.output("register").version == 1
    assert len(client.registry.search_versions("iris-clf")) == 1


def test_validate_stops_the_pipeline_on_a_version_with_anomalies(gnomon_home: Path) -> None:
    frame = _iris()
    gnomon.log_dataset(frame, "iris")
    planted = frame.assign(**{"petal length (cm)": frame["petal length (cm)"] * 100})
    gnomon.log_dataset(planted, "iris")  # the schema is the first version's
    params = {"dataset": "iris", "target": "species", "model_name": "iris-clf"}
    result = gnomon.run_pipeline(training_pipeline, params, raise_on_failure=False)
    assert result.status == "failed"
    statuses = {node: step.status for node, step in result.steps.items()}
    assert statuses.pop("validate") == "failed"
    assert set(statuses.values()) == {"skipped"} and len(statuses) == 5
    error = result.steps["validate"].error or {}
    assert error["type"] == "InvalidInput"
    assert "iris@2 has" in error["message"] and "petal length (cm)" in error["message"]
    assert len(gnomon.get_client().registry.search_versions()) == 0


def test_the_example_pipeline_trains_and_registers_on_the_demos_data(gnomon_home: Path) -> None:
    from sklearn.datasets import load_breast_cancer

    from gnomon.demo import DATASET

    data = load_breast_cancer(as_frame=True)
    gnomon.log_dataset(data.data.assign(target=data.target), DATASET)
    result = gnomon.run_pipeline(training_pipeline, {"params": {"n_estimators": 20}})
    assert result.counts() == {"succeeded": 6}
    assert result.output("validate", "report")["ok"]
    version = result.output("register")
    assert version.aliases == ["production"] and version.tags["gnomon.gate"] == "passed"
    assert result.output("evaluate")["metrics"]["f1"] > 0.9
    loaded = gnomon.load_model(f"models:/{version.model_name}@production")
    assert len(loaded.predict(data.data.head(3))) == 3


def test_ingest_statistics_transform_and_batch_predict(gnomon_home: Path, tmp_path: Path) -> None:
    frame = _iris()
    source = tmp_path / "iris.csv"
    frame.to_csv(source, index=False)
    model, uri = c.train(frame, "species", params={"n_estimators": 5})  # outside a pipeline
    gnomon.register_model(uri, "iris-direct", alias="production")
    params = {"source": str(source), "name": "iris-csv", "model": "models:/iris-direct@production"}
    first = gnomon.run_pipeline(pipelines.ingest_and_predict, params)
    version = first.output("ingest")
    assert version.ref == "iris-csv@1" and version.source == {"path": str(source.resolve())}
    assert first.steps["ingest"].outputs()["output"].link == "dataset:iris-csv@1"
    assert first.output("statistics")["rows"] == 150
    assert "petal_area" in first.output("transform").columns
    predicted = first.output("batch_predict")
    assert (
        len(predicted) == 150
        and (predicted["prediction"] == model.predict(frame.drop(columns=["species"]))).all()
    )

    again = gnomon.run_pipeline(pipelines.ingest_and_predict, params)
    statuses = {node: step.status for node, step in again.steps.items()}
    assert statuses == {
        "ingest": "succeeded",  # it looks at the source every time...
        "statistics": "cached",  # ...and finds the same version
        "load": "cached",
        "transform": "succeeded",
        "batch_predict": "succeeded",
    }
    assert again.output("ingest") == version
    # A fitted model (not train's URI) is logged by register, with its training data linked.
    logged = c.register(model, {"passed": True}, "iris-object", None, version)
    assert logged.aliases == [] and gnomon.get_client().get_run(logged.run_id).name == "register"
    inputs = gnomon.get_client().datasets.inputs(logged.run_id)
    assert [(i.ref, i.context) for i in inputs] == [("iris-csv@1", "training")]


def test_components_refuse_bad_input_with_the_reason(gnomon_home: Path) -> None:
    frame = _iris()
    with pytest.raises(InvalidInput, match=r"cannot import 'sklearn\.nothing'"):
        c.train(frame, "species", "sklearn.nothing.Forest")
    with pytest.raises(InvalidInput, match="no target column 'kind'"):
        c.train(frame, "kind")
    with pytest.raises(InvalidInput, match="returned int, not a pandas DataFrame"):
        c.transform(frame, f"{pipelines.__name__}:not_a_frame")
    with pytest.raises(InvalidInput, match="test_size is a fraction"):
        c.split(frame, 1.5)
    with pytest.raises(InvalidInput, match="a dict with 'passed'"):
        c.register("runs:/x/model", {"metrics": {}}, "iris-clf")
    with pytest.raises(InvalidInput, match="threshold of 'accuracy' is a number"):
        c.evaluate(None, frame, "species", "iris-clf", thresholds={"accuracy": "high"})
    assert c.register("runs:/x/model", {"passed": False, "reasons": []}, "iris-clf") is None
    gnomon.log_dataset(frame, "iris")
    with pytest.raises(InvalidInput, match="thresholds are"):
        c.validate("iris", {"nul_rate": 0.5})
    token = entered(StepContext("p", "run", "load", 1, None))
    try:  # a cached step in a pipeline would keep the first answer of a floating reference
        with pytest.raises(InvalidInput, match="pin one"):
            c.load("iris")
        assert len(c.load("iris@1")) == 150
    finally:
        left(token)
    train, holdout = c.split(frame, 0.2, 3, "species")
    assert len(holdout) == 30 and set(holdout["species"].value_counts()) == {10}
    assert not set(train.index) & set(holdout.index)


def test_the_lineage_of_a_train_evaluate_register_pipeline_reaches_data_and_deployment(
    gnomon_home: Path,
) -> None:
    ref = gnomon.log_dataset(_iris(), "iris").ref
    params = {"dataset": ref, "model_name": "iris-clf", "params": {"n_estimators": 5}}
    result = gnomon.run_pipeline(pipelines.train_and_register, params)
    client = gnomon.get_client()
    client.deployments.create("iris-api", "iris-clf@production")
    api = client.pipelines

    up = api.lineage("deployment:iris-api", "upstream", 12)
    kinds = {node.id.partition(":")[0] for node in up.nodes}
    assert {"deployment", "model", "step", "artifact", "dataset", "run"} <= kinds
    edges = set(up.edges)
    register = f"step:{result.steps['register'].id}"
    assert ("model:iris-clf/1", "deployment:iris-api") in edges
    assert (register, "model:iris-clf/1") in edges  # the step that returned the version
    train_run = f"run:{result.output('register').run_id}"
    assert (train_run, "model:iris-clf/1") in edges and (f"dataset:{ref}", train_run) in edges
    steps = {node.label for node in up.nodes if node.kind == "step"}
    assert {"register", "evaluate", "train", "split", "load"} <= steps

    down = api.lineage(f"dataset:{ref}", "downstream", 12)
    reached = {node.id for node in down.nodes}
    assert {train_run, "model:iris-clf/1", "deployment:iris-api"} <= reached
    assert not down.truncated
    shallow = api.lineage(f"dataset:{ref}", "downstream", 1)
    assert "deployment:iris-api" not in {n.id for n in shallow.nodes} and shallow.truncated
