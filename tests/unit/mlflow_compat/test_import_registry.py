"""``gnomon import mlflow`` with a model registry: MLflow's registered models, versions and
aliases become the same models in gnomon's registry, loadable again by MLflow's pyfunc.

MLflow runs in its own virtual environment (gnomon never imports it): one script writes a file
store and a SQLite store, each with a registered sklearn model in two versions and an alias;
another loads the imported versions' files, downloaded from gnomon, with ``mlflow.pyfunc``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

import gnomon
from gnomon.backends import open_services
from gnomon.mlflow_compat.import_registry import NUMBER_TAG, REMOTE, VERSION_TAG
from gnomon.mlflow_compat.import_sources import open_source
from gnomon.mlflow_compat.importing import import_mlflow
from gnomon.registry.entities import ModelVersion
from tests.fixtures.mlflow_client import run_mlflow_script
from tests.unit.mlflow_compat.test_import import gnomon_import

MAKE_STORES = r"""
import json, os
from pathlib import Path
import mlflow, numpy as np
from mlflow import MlflowClient
from sklearn.linear_model import LinearRegression

root = Path.cwd()
X = np.arange(12, dtype=float).reshape(6, 2)
saved = root / "saved"  # an MLflow 2 style model: a run's artifact folder, registered by path
mlflow.sklearn.save_model(
    LinearRegression().fit(X, X @ [3.0, 0.0]), str(saved), pip_requirements=["scikit-learn"]
)
out = {}
for kind, folder, uri in (
    ("file", root / "file", (root / "file" / "mlruns").as_uri()),
    ("sqlite", root / "sql", "sqlite:///" + str(root / "sql" / "mlflow.db")),
):
    folder.mkdir()
    os.chdir(folder)  # a SQLite store keeps artifacts under ./mlruns
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, uri)
    mlflow.set_experiment("pricing")
    predictions, runs = {}, {}
    for number, slope in ((1, 1.0), (2, 2.0)):
        with mlflow.start_run(run_name=f"fit{number}") as run:
            model = LinearRegression().fit(X, X @ [slope, 1.0])
            mlflow.sklearn.log_model(
                model, name="model", registered_model_name="price",
                pip_requirements=["scikit-learn"],  # no inference: seconds saved
            )
            predictions[number] = model.predict(X).tolist()
            runs[number] = run.info.run_id
    client.update_registered_model("price", description="prices")
    client.set_registered_model_tag("price", "team", "pricing")
    client.set_model_version_tag("price", "2", "quality", "good")
    client.update_model_version("price", "2", description="second")
    client.set_registered_model_alias("price", "champion", "1")
    with mlflow.start_run(run_name="legacy") as run:
        mlflow.log_artifacts(str(saved), "legacy")
    client.create_registered_model("legacy")
    legacy = f"runs:/{run.info.run_id}/legacy"
    client.create_model_version("legacy", legacy, run.info.run_id)
    out[kind] = {"uri": uri, "folder": str(folder), "predictions": predictions, "runs": runs}
print(json.dumps(out))
"""

# Loads each folder of FOLDERS with MLflow's pyfunc and prints its predictions.
LOAD = r"""
import json
import mlflow.pyfunc, numpy as np

X = np.arange(12, dtype=float).reshape(6, 2)
folders = json.loads(FOLDERS)
print(json.dumps({k: mlflow.pyfunc.load_model(f).predict(X).tolist() for k, f in folders.items()}))
"""


def download(client: gnomon.Client, version: ModelVersion, folder: Path) -> Path:
    """The version's files from gnomon's artifact store, each checked against its digest."""
    store = open_services(client.settings).artifact_store(version.storage_uri)
    for key, digest in version.files.items():
        local = store.download(key, folder / Path(key).parent)
        assert hashlib.sha256(local.read_bytes()).hexdigest() == digest
    return folder


@pytest.fixture(scope="module")
def stores(mlflow_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("mlflow-registry")
    allow = {"MLFLOW_ALLOW_FILE_STORE": "true"}  # MLflow 3 keeps its file store on request
    found: dict[str, Any] = json.loads(
        run_mlflow_script(mlflow_python, MAKE_STORES, allow, root).splitlines()[-1]
    )
    return found


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    return gnomon.Client()


def test_registered_models_are_imported_as_the_same_models(
    stores: dict[str, Any], client: gnomon.Client, mlflow_python: Path, tmp_path: Path
) -> None:
    folders = {}
    for kind, store in stores.items():
        # Both stores hold "price": the second import matches the first's model by name.
        allowed = ["--artifacts-root", store["folder"]] if kind == "sqlite" else []
        summary = gnomon_import("--from", store["uri"], *allowed)
        assert summary["complete"] is True and summary["versions_imported"] == 3
        if not folders:  # the first store
            assert summary["skipped"] == []
            assert (summary["models_created"], summary["aliases_set"]) == (2, 1)
        else:  # its alias already points at the first store's version: left so
            assert summary["skipped"] == [
                {
                    "kind": "alias",
                    "subject": "price@champion",
                    "reason": "points at version 1 in gnomon; left as it is",
                }
            ]
            assert (summary["models_matched"], summary["aliases_set"]) == (2, 0)

        versions = {
            v.tags[NUMBER_TAG]: v
            for v in client.registry.search_versions(name="price").items
            if v.tags[VERSION_TAG] == f"price/{v.tags[NUMBER_TAG]}"
            and v.run_id in {summary["run_ids"][r] for r in store["runs"].values()}
        }
        assert versions.keys() == {"1", "2"}
        for number, version in versions.items():
            assert version.flavor == "mlflow"
            assert version.source.startswith("models:/m-")
            assert version.run_id == summary["run_ids"][store["runs"][number]]
            assert {"MLmodel", "model.skops"} <= version.files.keys()
            assert version.spec_sha256 == version.files["MLmodel"]
            folders[f"{kind}/{number}"] = str(download(client, version, tmp_path / kind / number))
        assert versions["2"].description == "second"
        assert versions["2"].tags["quality"] == "good"

        legacy = client.registry.search_versions(name="legacy").items[0]  # newest first
        assert legacy.tags["gnomon.import.mlflow_source"].startswith("runs:/")
        assert (legacy.flavor, legacy.spec_sha256) == ("mlflow", legacy.files["MLmodel"])
        assert "model.skops" in legacy.files

        again = gnomon_import("--from", store["uri"], *allowed)
        assert (again["versions_imported"], again["versions_already_imported"]) == (0, 3)
        assert (again["aliases_set"], again["models_matched"], again["model_files"]) == (0, 2, 0)
        assert again["runs_imported"] == 0

    model = client.registry.get_model("price")
    assert (model.description, model.tags) == ("prices", {"team": "pricing"})
    first = client.registry.get_version("price", "champion")
    assert (first.version, first.tags[NUMBER_TAG]) == (1, "1")  # the first store's version 1
    assert len(client.registry.search_versions(name="price").items) == 4

    loaded = json.loads(
        run_mlflow_script(
            mlflow_python, LOAD.replace("FOLDERS", repr(json.dumps(folders))), {}, tmp_path
        ).splitlines()[-1]
    )
    for kind, store in stores.items():
        for number in ("1", "2"):
            assert loaded[f"{kind}/{number}"] == pytest.approx(store["predictions"][number])


def test_a_sql_store_without_artifacts_root_lists_each_version_left_out(
    stores: dict[str, Any], client: gnomon.Client
) -> None:
    summary = gnomon_import("--from", stores["sqlite"]["uri"])
    assert (summary["models_created"], summary["versions_imported"]) == (2, 0)
    reasons = {(s["kind"], s["subject"]): s["reason"] for s in summary["skipped"]}
    assert "give --artifacts-root" in reasons[("model version", "price/1")]
    assert reasons[("alias", "price@champion")] == "version 1 is not imported"


def test_without_the_registry_services_the_models_are_left_out_with_the_reason(
    stores: dict[str, Any], client: gnomon.Client
) -> None:
    # What a remote client gets: gnomon's logged models live where its database is.
    source = open_source(stores["file"]["uri"])
    try:
        summary = import_mlflow(client.tracking, client.scope, source)
    finally:
        source.close()
    assert summary.runs_imported == 3 and summary.versions_imported == 0
    assert [(s.kind, s.subject, s.reason) for s in summary.skipped] == [
        ("registered models", "'legacy', 'price'", REMOTE)
    ]
