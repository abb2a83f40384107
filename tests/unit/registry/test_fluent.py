"""log_model, register_model and load_model through the SDK (embedded)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import gnomon
from gnomon.errors import InvalidInput, NotFound


class Doubler:
    """A custom MLflow PythonModel shape: predict(context, model_input)."""

    def predict(self, context: object, model_input: pd.DataFrame) -> np.ndarray:
        return model_input["x"].to_numpy() * 2


@pytest.fixture
def data() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=80), "b": rng.uniform(0, 5, size=80)})
    frame["y"] = (frame["a"] + frame["b"] > 2.5).astype(int)
    return frame


@pytest.fixture
def logged(gnomon_home: Path, data: pd.DataFrame) -> tuple[str, object]:
    from sklearn.linear_model import LogisticRegression

    features = data[["a", "b"]]
    model = LogisticRegression().fit(features, data["y"])
    with gnomon.start_run() as run:
        gnomon.log_metric("acc", 0.9)
        uri = gnomon.log_model(model, "model", input_example=features)
    assert uri == f"runs:/{run.id}/model"
    return uri, model


def test_load_by_every_uri_form(logged: tuple[str, object], data: pd.DataFrame) -> None:
    uri, model = logged
    features = data[["a", "b"]]
    expected = model.predict_proba(features)  # type: ignore[attr-defined]
    first = gnomon.register_model(uri, "churn", alias="production")
    second = gnomon.register_model(uri, "churn")
    assert (first.version, second.version) == (1, 2)
    for target in (uri, "models:/churn/1", "models:/churn@production", "models:/churn"):
        loaded = gnomon.load_model(target)
        np.testing.assert_allclose(loaded.predict_proba(features), expected)
    assert gnomon.get_client().registry.get_version("churn").version == 2  # latest


def test_registration_errors(logged: tuple[str, object]) -> None:
    uri, _ = logged
    run_id = uri.split("/")[1]
    with pytest.raises(NotFound, match="'nope'"):
        gnomon.register_model("runs:/nope/model", "churn")
    with pytest.raises(InvalidInput, match="no gnomon model at 'elsewhere'"):
        gnomon.register_model(f"runs:/{run_id}/elsewhere", "churn")
    with pytest.raises(InvalidInput, match="alias"):
        gnomon.register_model(uri, "churn", alias="123")
    with pytest.raises(InvalidInput):
        gnomon.register_model("s3://bucket/model", "churn")
    assert [v.version for v in gnomon.get_client().registry.search_versions("churn")] == []
    gnomon.register_model(uri, "churn")
    with pytest.raises(NotFound, match="staging"):
        gnomon.load_model("models:/churn@staging")
    with pytest.raises(NotFound, match="'ghost'"):
        gnomon.load_model("models:/ghost/1")


def test_registered_copy_outlives_the_run_files(
    logged: tuple[str, object], gnomon_home: Path
) -> None:
    uri, _ = logged
    gnomon.register_model(uri, "churn", alias="production")
    run_id = uri.split("/")[1]
    artifacts = Path(gnomon.get_client().get_run(run_id).artifact_uri)
    shutil.rmtree(artifacts / "model")
    with pytest.raises(NotFound):
        gnomon.load_model(uri)
    assert gnomon.load_model("models:/churn@production").flavor == "sklearn"


def test_tampered_registry_copy_is_refused(logged: tuple[str, object]) -> None:
    uri, _ = logged
    version = gnomon.register_model(uri, "churn")
    stored = Path(version.storage_uri)
    pickled = next(p for p in stored.iterdir() if p.name != "gnomon-model.yaml")
    pickled.write_bytes(pickled.read_bytes() + b"!")
    with pytest.raises(InvalidInput, match=pickled.name):
        gnomon.load_model("models:/churn/1")


def test_contract_is_inferred_and_editable(logged: tuple[str, object]) -> None:
    uri, _ = logged
    gnomon.register_model(uri, "churn")
    registry = gnomon.get_client().registry
    contract = registry.get_contract("churn", 1)
    assert contract is not None and contract.input_names == ["a", "b"]
    # A few example rows give no ranges (tests/unit/registry/test_contract_from_data.py).
    assert (contract.column("b").minimum, contract.column("b").maximum) == (None, None)
    registry.set_contract("churn", 1, contract.with_column("b", minimum=0, maximum=5))
    loaded = gnomon.load_model("models:/churn/1")  # still loads: the contract is not hashed
    assert (loaded.contract.column("b").minimum, loaded.contract.column("b").maximum) == (0, 5)
    version = registry.get_version("churn", 1)
    assert version.tags["gnomon.contract.edited_by"] == gnomon.get_client().scope.principal


def test_log_model_keeps_the_metadata_the_model_server_reads(
    gnomon_home: Path, data: pd.DataFrame
) -> None:
    from sklearn.linear_model import LogisticRegression

    features = data[["a", "b"]]
    model = LogisticRegression().fit(features, data["y"])
    with gnomon.start_run():
        uri = gnomon.log_model(model, "model", metadata={"batchable": False})
    gnomon.register_model(uri, "per-batch")
    for target in (uri, "models:/per-batch/1"):
        loaded = gnomon.load_model(target)
        assert loaded.spec.metadata == {"batchable": False}
        assert loaded.batchable is False


def test_log_model_takes_save_models_options(gnomon_home: Path, data: pd.DataFrame) -> None:
    from sklearn.linear_model import LogisticRegression

    features = data[["a", "b"]]
    model = LogisticRegression().fit(features, data["y"])
    with gnomon.start_run():
        pinned = gnomon.log_model(
            model, "pinned", flavor="sklearn", pip_requirements=["scikit-learn==1.4.2"]
        )
        extra = gnomon.log_model(model, "extra", requirements=["pyarrow>=15"])
    spec = gnomon.load_model(pinned).spec
    assert spec.flavor == "sklearn"
    assert "scikit-learn==1.4.2" in spec.requirements  # replaces the inferred pin
    assert not any(
        r.startswith("scikit-learn==") and r != "scikit-learn==1.4.2" for r in spec.requirements
    )
    assert "pyarrow>=15" in gnomon.load_model(extra).spec.requirements


def test_log_model_option_errors(gnomon_home: Path, data: pd.DataFrame) -> None:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(data[["a", "b"]], data["y"])
    with pytest.raises(InvalidInput, match="not both"):
        gnomon.log_model(model, "m", requirements=["a"], pip_requirements=["b"])
    assert gnomon.active_run() is None  # refused before a run was started
    with pytest.raises(InvalidInput, match="must be a list of strings"):
        gnomon.log_model(model, "m", pip_requirements="scikit-learn==1.4.2")  # type: ignore[arg-type]
    with gnomon.start_run():
        with pytest.raises(InvalidInput, match="is not a 'xgboost' model"):
            gnomon.log_model(model, "m", flavor="xgboost")
        with pytest.raises(InvalidInput, match="flavor"):
            gnomon.log_model(model, "m", flavor="tensorflow")


def test_a_pytorch_model_logged_with_proba_metadata_has_predict_proba(gnomon_home: Path) -> None:
    import torch

    from tests.unit.modelfolder.support import numeric_data
    from tests.unit.modelfolder.test_torch import mlp, reference

    frame, _ = numeric_data()
    model = mlp()
    with gnomon.start_run():
        uri = gnomon.log_model(model, "model", input_example=frame, metadata={"proba": "softmax"})
    logits = torch.from_numpy(reference(model, frame.to_numpy()))
    expected = torch.softmax(logits, dim=-1).numpy()
    np.testing.assert_allclose(gnomon.load_model(uri).predict_proba(frame), expected, rtol=1e-5)


def test_import_mlflow_python_model(gnomon_home: Path, tmp_path: Path) -> None:
    import cloudpickle

    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    (folder / "python_model.pkl").write_bytes(cloudpickle.dumps(Doubler()))
    (folder / "input_example.json").write_text('{"columns": ["x"], "data": [[1.0], [2.5]]}')
    mlmodel = {
        "flavors": {
            "python_function": {
                "python_model": "python_model.pkl",
                "loader_module": "mlflow.pyfunc.model",
            }
        },
        "saved_input_example_info": {"artifact_path": "input_example.json", "type": "dataframe"},
    }
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    version = gnomon.get_client().registry.import_mlflow(folder, "doubler", alias="production")
    assert version.source.startswith("mlflow:") and version.flavor == "pyfunc"
    loaded = gnomon.load_model("models:/doubler@production")
    np.testing.assert_allclose(loaded.predict(pd.DataFrame({"x": [3.0, 4.0]})), [6.0, 8.0])


def test_import_mlflow_refuses_other_flavors(gnomon_home: Path, tmp_path: Path) -> None:
    (tmp_path / "MLmodel").write_text(yaml.safe_dump({"flavors": {"keras": {}}}))
    with pytest.raises(InvalidInput, match="keras"):
        gnomon.get_client().registry.import_mlflow(tmp_path, "k")
    with pytest.raises(NotFound, match="MLmodel"):
        gnomon.get_client().registry.import_mlflow(tmp_path / "missing", "k")
