"""``client.registry.import_mlflow``: model folders MLflow itself saved, imported into gnomon
and compared with what ``mlflow.pyfunc.load_model(folder).predict`` answers on the same rows.

MLflow runs in its own virtual environment (gnomon never imports it). A custom PythonModel
subclasses MLflow's class, so importing and loading one needs ``mlflow`` importable: that
part runs in a subprocess of gnomon's python with MLflow's packages appended to its path.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import gnomon
from gnomon.errors import InvalidInput
from gnomon.modelfolder import read_spec
from gnomon.registry.http import HttpRegistryClient
from gnomon.serving.enforce import enforce
from tests.fixtures.mlflow_client import run_mlflow_script

# Saves each kind of model with MLflow (a 5-row input example, as MLflow's docs show), then
# prints what MLflow's own pyfunc predicts for the whole training set, and for the custom
# models on ROWS (with and without params).
MAKE_MODELS = r"""
import json, sysconfig
from pathlib import Path
import numpy as np, pandas as pd
import lightgbm as lgb, mlflow, xgboost as xgb
from mlflow.models import Model, infer_signature
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

root = Path.cwd()
x, y = load_breast_cancer(return_X_y=True, as_frame=True)


def save(name, save_model, model, example=x.head(5), **kw):
    # pip_requirements: MLflow would otherwise load each model in a subprocess to infer them
    save_model(model, str(root / name), input_example=example, pip_requirements=REQS,
               mlflow_model=Model(run_id=f"run-{name}"), **kw)


REQS = ["scikit-learn==1.9.1", "scipy==1.17.1"]
save("sklearn", mlflow.sklearn.save_model,
     make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y),
     serialization_format="cloudpickle", pyfunc_predict_fn="predict_proba")
save("xgboost", mlflow.xgboost.save_model, xgb.XGBClassifier(n_estimators=8, max_depth=3).fit(x, y))
save("xgboost_booster", mlflow.xgboost.save_model,
     xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(x, y), 8))
save("lightgbm", mlflow.lightgbm.save_model,
     lgb.LGBMClassifier(n_estimators=8, verbose=-1).fit(x, y), serialization_format="cloudpickle")
save("lightgbm_booster", mlflow.lightgbm.save_model,
     lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(x, y), 8))


class Scaled(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        self.factor = float(Path(context.artifacts["factor"]).read_text())
        self.offset = context.model_config["offset"]

    def predict(self, model_input, params=None):
        up = (model_input["b"] == "up") * 100.0
        return model_input["a"] * self.factor + self.offset + up + params["shift"]


class Legacy(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):  # MLflow 2's form, reading artifacts per call
        words = Path(context.artifacts["words"]).read_text().split()
        return model_input["a"] * len(words) + context.model_config["bias"]


class Upper(mlflow.pyfunc.PythonModel):
    def predict(self, model_input: list[str], params=None) -> list[str]:  # MLflow 3's hints
        return [text.upper() for text in model_input]


(root / "factor.txt").write_text("3")
(root / "words.txt").write_text("one two three four")
rows = pd.DataFrame({"a": np.linspace(-2, 2, 9), "b": ["up", "down", "up"] * 3})
signature = infer_signature(rows, rows["a"], params={"shift": 0.5})
mlflow.pyfunc.save_model(str(root / "pyfunc"), python_model=Scaled(), signature=signature,
                         artifacts={"factor": str(root / "factor.txt")},
                         model_config={"offset": 1.5}, input_example=rows.head(3),
                         pip_requirements=["pandas==3.1.1"])
mlflow.pyfunc.save_model(str(root / "legacy"), python_model=Legacy(),
                         artifacts={"words": str(root / "words.txt")},
                         model_config={"bias": 10}, input_example=rows.head(3),
                         pip_requirements=["pandas==3.1.1"])

answers = {name: np.asarray(mlflow.pyfunc.load_model(str(root / name)).predict(x)).tolist()
           for name in ("sklearn", "xgboost", "xgboost_booster", "lightgbm", "lightgbm_booster")}
scaled = mlflow.pyfunc.load_model(str(root / "pyfunc"))
answers["pyfunc"] = scaled.predict(rows).tolist()
answers["pyfunc_shift"] = scaled.predict(rows, params={"shift": 2.0}).tolist()
answers["legacy"] = mlflow.pyfunc.load_model(str(root / "legacy")).predict(rows).tolist()
mlflow.pyfunc.save_model(str(root / "hint"), python_model=Upper(), input_example=["a", "b"],
                         pip_requirements=["pandas==3.1.1"])
answers["hint"] = mlflow.pyfunc.load_model(str(root / "hint")).predict(rows[["b"]])
answers["rows"] = rows.to_dict(orient="list")
answers["site_packages"] = sysconfig.get_paths()["purelib"]
print(json.dumps(answers))
"""

# Imports and predicts with gnomon, in a python that can import mlflow (as a user who saved
# PythonModels has): gnomon's own environment, MLflow's packages after its own.
GNOMON_WITH_MLFLOW = r"""
import json, sys
sys.path.append(sys.argv[1])
import pandas as pd
import gnomon
from gnomon.serving.params import predict_with_params, takes_params

root, rows = sys.argv[2], pd.DataFrame(json.loads(sys.argv[3]))
client, out = gnomon.Client(), {}
for name in ("pyfunc", "legacy", "hint"):
    version = client.registry.import_mlflow(f"{root}/{name}", f"{name}-{sys.argv[4]}")
    model = gnomon.load_model(f"models:/{version.model_name}/{version.version}")
    out[name] = list(model.predict(rows[["b"]] if name == "hint" else rows))
    out[name + "_takes_params"] = takes_params(model)
    if takes_params(model):
        out[name + "_shift"] = list(predict_with_params(model, rows, {"shift": 2.0}))
print(json.dumps(out))
"""

MODELS = ("sklearn", "xgboost", "xgboost_booster", "lightgbm", "lightgbm_booster")
FLAVORS = {
    "sklearn": "pyfunc",  # predict_proba, as pyfunc_predict_fn says
    "xgboost": "xgboost",
    "xgboost_booster": "xgboost",
    "lightgbm": "lightgbm",
    "lightgbm_booster": "lightgbm",
}


@pytest.fixture(scope="module")
def saved(mlflow_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The MLflow model folders, made once (MLflow takes seconds to start), and MLflow's
    answers; tests copy a folder before changing it."""
    root = tmp_path_factory.mktemp("mlflow-models")
    allow = {"MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"}  # MLflow 3 refuses pickles otherwise
    out = run_mlflow_script(mlflow_python, MAKE_MODELS, allow, root)
    answers: dict[str, Any] = json.loads(out.splitlines()[-1])
    answers["root"] = root
    return answers


@pytest.fixture
def training() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    frame: pd.DataFrame = load_breast_cancer(as_frame=True).data
    return frame


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("kind", MODELS)
def test_predictions_match_mlflow(
    kind: str, saved: dict[str, Any], training: pd.DataFrame, gnomon_home: Path
) -> None:
    version = gnomon.Client().registry.import_mlflow(saved["root"] / kind, _name(kind))
    assert version.flavor == FLAVORS[kind]
    loaded = gnomon.load_model(f"models:/{version.model_name}/1")
    np.testing.assert_allclose(loaded.predict(training), saved[kind], rtol=1e-6, atol=1e-7)


def test_the_training_set_passes_a_contract_from_five_rows(
    saved: dict[str, Any], training: pd.DataFrame, gnomon_home: Path, caplog: Any
) -> None:
    registry = gnomon.Client().registry
    with caplog.at_level(logging.WARNING):
        version = registry.import_mlflow(saved["root"] / "xgboost", _name("cancer"))
    assert "input example of 5 rows" in caplog.text and "ranges" in caplog.text
    contract = registry.get_contract(version.model_name, 1)
    assert contract is not None and contract.input_names == list(training.columns)
    assert {c.dtype for c in contract.inputs} == {"float64"}  # MLflow's "double"
    assert all(c.minimum is None and c.maximum is None for c in contract.inputs)
    _, violations = enforce(training, contract)
    assert violations == []
    _, violations = enforce(training.assign(**{"mean radius": "wide"}), contract)
    assert {v.problem for v in violations} == {"wrong_type"}  # the types are still checked


def test_a_large_example_gives_ranges(
    saved: dict[str, Any], training: pd.DataFrame, gnomon_home: Path, tmp_path: Path
) -> None:
    folder = shutil.copytree(saved["root"] / "lightgbm", tmp_path / "lightgbm")
    example = {"columns": list(training.columns), "data": training.to_numpy().tolist()}
    (folder / "input_example.json").write_text(json.dumps(example))
    registry = gnomon.Client().registry
    version = registry.import_mlflow(folder, _name("ranged"))
    contract = registry.get_contract(version.model_name, 1)
    assert contract is not None
    radius = contract.column("mean radius")
    assert radius.minimum is not None and radius.minimum < training["mean radius"].min()
    assert radius.maximum is not None and radius.maximum > training["mean radius"].max()
    assert enforce(training, contract)[1] == []
    assert contract.outputs[0].name == "prediction"


def test_no_example_still_gives_the_signature_s_columns(
    saved: dict[str, Any], training: pd.DataFrame, gnomon_home: Path, tmp_path: Path
) -> None:
    folder = shutil.copytree(saved["root"] / "xgboost_booster", tmp_path / "booster")
    mlmodel = yaml.safe_load((folder / "MLmodel").read_text())
    del mlmodel["saved_input_example_info"]
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    (folder / "input_example.json").unlink()
    registry = gnomon.Client().registry
    version = registry.import_mlflow(folder, _name("no-example"))
    contract = registry.get_contract(version.model_name, 1)
    assert contract is not None and contract.input_names == list(training.columns)
    assert enforce(training, contract)[1] == []


def test_lineage_is_kept(saved: dict[str, Any], gnomon_home: Path, tmp_path: Path) -> None:
    registry = gnomon.Client().registry
    version = registry.import_mlflow(saved["root"] / "sklearn", _name("lineage"))
    mlmodel = yaml.safe_load((saved["root"] / "sklearn" / "MLmodel").read_text())
    assert version.tags["mlflow.run_id"] == "run-sklearn"
    assert version.tags["mlflow.model_uuid"] == mlmodel["model_uuid"]
    assert version.tags["mlflow.flavor"] == "sklearn"
    assert version.source == f"mlflow:{(saved['root'] / 'sklearn').resolve()}"
    folder = registry.download_version(f"models:/{version.model_name}/1", tmp_path / "got")
    signature = json.loads((folder / "mlflow" / "signature.json").read_text())
    assert signature["inputs"] == json.loads(mlmodel["signature"]["inputs"])
    spec = read_spec(folder)
    assert spec.metadata["mlflow"]["run_id"] == "run-sklearn"
    # MLflow's requirements as written (scipy), without mlflow: the sklearn flavor needs none
    assert "scipy==1.17.1" in spec.requirements
    assert not [r for r in spec.requirements if r.startswith("mlflow")]


def test_import_through_a_server_keeps_the_tags(
    saved: dict[str, Any],
    training: pd.DataFrame,
    gnomon_home: Path,
    open_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GNOMON_URI", open_server.url)
    registry = gnomon.Client().registry
    assert isinstance(registry, HttpRegistryClient)
    version = registry.import_mlflow(saved["root"] / "xgboost", _name("remote"))
    assert version.tags["mlflow.run_id"] == "run-xgboost"
    loaded = gnomon.load_model(f"models:/{version.model_name}/1")
    np.testing.assert_allclose(loaded.predict(training), saved["xgboost"])


def test_python_models_match_mlflow(saved: dict[str, Any], gnomon_home: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    rows = json.dumps(saved["rows"])
    args = [saved["site_packages"], str(saved["root"]), rows, suffix]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", GNOMON_WITH_MLFLOW, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    got = json.loads(done.stdout.splitlines()[-1])
    # MLflow-3 predict(model_input, params): load_context's artifact and config, the params
    # schema's default, and params handed on
    np.testing.assert_allclose(got["pyfunc"], saved["pyfunc"])
    np.testing.assert_allclose(got["pyfunc_shift"], saved["pyfunc_shift"])
    # MLflow-2 predict(context, model_input), reading its artifact at predict time
    np.testing.assert_allclose(got["legacy"], saved["legacy"])
    # typed predict(model_input: list[str]): the first text column, as a list
    assert got["hint"] == saved["hint"] == ["UP", "DOWN", "UP"] * 3
    assert (got["pyfunc_takes_params"], got["legacy_takes_params"]) == (True, False)

    registry = gnomon.Client().registry
    version = registry.get_version(f"pyfunc-{suffix}", 1)
    assert version.flavor == "pyfunc" and version.tags["mlflow.flavor"] == "python_function"
    folder = registry.download_version(f"models:/pyfunc-{suffix}/1", gnomon_home / "got")
    spec = read_spec(folder)
    assert {"mlflow==3.17.2", "pandas==3.1.1"} <= set(spec.requirements)
    assert (folder / "mlflow" / "artifacts" / "factor.txt").read_text() == "3"


def test_a_python_model_needs_mlflow_to_import(saved: dict[str, Any], gnomon_home: Path) -> None:
    # gnomon's own environment has no mlflow: the model's class cannot be unpickled
    with pytest.raises(InvalidInput, match="needs the 'mlflow' package") as caught:
        gnomon.Client().registry.import_mlflow(saved["root"] / "pyfunc", _name("no-mlflow"))
    assert "\n" not in str(caught.value)


def _write_mlmodel(folder: Path, mlmodel: dict[str, Any]) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    return folder


@pytest.mark.parametrize(
    ("flavors", "named"),
    [
        ({"keras": {"data": "model.keras"}}, "keras cannot be imported; gnomon imports sklearn"),
        (
            {"python_function": {"loader_module": "mlflow.transformers", "data": "model"}},
            "loader_module 'mlflow.transformers' is not one gnomon understands",
        ),
        (
            {"python_function": {"loader_module": "mlflow.pyfunc.loaders.code_model"}},
            "model from code",
        ),
        ({"sklearn": {"pickled_model": "../model.pkl"}}, "outside the model folder"),
        ({"xgboost": {"data": "model.ubj", "model_class": "my.Booster"}}, "my.Booster"),
    ],
)
def test_what_cannot_be_imported_is_one_line(
    flavors: dict[str, Any], named: str, gnomon_home: Path, tmp_path: Path
) -> None:
    folder = _write_mlmodel(tmp_path / "model", {"flavors": flavors})
    with pytest.raises(InvalidInput) as caught:
        gnomon.Client().registry.import_mlflow(folder, _name("refused"))
    assert named in str(caught.value) and "\n" not in str(caught.value)


def test_missing_files_and_methods_are_named(
    saved: dict[str, Any], gnomon_home: Path, tmp_path: Path
) -> None:
    registry = gnomon.Client().registry
    folder = shutil.copytree(saved["root"] / "xgboost", tmp_path / "xgboost")
    (folder / "model.ubj").unlink()
    with pytest.raises(InvalidInput, match=r"'model\.ubj' is missing"):
        registry.import_mlflow(folder, _name("missing"))

    folder = shutil.copytree(saved["root"] / "sklearn", tmp_path / "sklearn")
    mlmodel = yaml.safe_load((folder / "MLmodel").read_text())
    mlmodel["flavors"]["python_function"]["predict_fn"] = "score"
    _write_mlmodel(folder, mlmodel)
    with pytest.raises(InvalidInput, match="pyfunc_predict_fn 'score'"):
        registry.import_mlflow(folder, _name("score"))
