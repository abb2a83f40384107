"""The model registry with real model files, embedded and through a server: registering a
run's model, loading it by alias, its contract and its download, importing an MLflow model,
and the errors only a run can show; and another workspace's models stay out of reach. (The
API itself, on files-less versions, is ``tests/contract/registry_api_contract.py``'s.)"""

from __future__ import annotations

import pickle
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import gnomon
from gnomon.auth.entities import Principal
from gnomon.errors import InvalidInput, NotFound
from gnomon.registry.entities import VersionStatus
from gnomon.registry.http import HttpRegistryClient
from gnomon.tracking import fluent
from tests.fixtures.server import LiveServer, add_tenant


@pytest.fixture
def data() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.uniform(0, 5, size=60)})
    frame["y"] = (frame["a"] + frame["b"] > 2.5).astype(int)
    return frame


def _fit(data: pd.DataFrame) -> object:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(data[["a", "b"]], data["y"])


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_registry_flow_in_both_modes(mode: str, data: pd.DataFrame, tmp_path: Path) -> None:
    client = gnomon.Client()
    if mode == "remote":
        assert isinstance(client.registry, HttpRegistryClient)
    features = data[["a", "b"]]
    model = _fit(data)
    gnomon.set_experiment(_unique("registry"))
    with gnomon.start_run() as run:
        uri = gnomon.log_model(model, "model", input_example=features)
    name = _unique("churn")

    first = gnomon.register_model(uri, name, alias="production", tags={"team": "growth"})
    assert (first.version, first.run_id, first.aliases) == (1, run.id, ["production"])
    assert first.tags == {"team": "growth"} and first.status is VersionStatus.READY
    loaded = gnomon.load_model(f"models:/{name}@production")
    expected = model.predict_proba(features)  # type: ignore[attr-defined]
    np.testing.assert_allclose(loaded.predict_proba(features), expected)

    registry = client.registry
    second = registry.register(uri, name, description="retrained")
    assert second.version == 2 and second.description == "retrained"
    actor = "local" if mode == "remote" else client.scope.principal

    # An alias moved through the API moves what loads.
    registry.set_alias(name, "production", 2)
    assert registry.get_model(name).aliases == {"production": 2}
    np.testing.assert_allclose(
        gnomon.load_model(f"models:/{name}@production").predict_proba(features), expected
    )
    by_run = registry.search_versions(run_id=run.id)
    assert {(v.model_name, v.version) for v in by_run} >= {(name, 1), (name, 2)}

    # The contract round-trips.
    contract = registry.get_contract(name, 1)
    assert contract is not None and contract.input_names == ["a", "b"]
    wider = contract.with_column("a", minimum=-100.0, maximum=100.0)
    edited = registry.set_contract(name, 1, wider)
    assert edited.tags["gnomon.contract.edited_by"] == actor
    again = registry.get_contract(name, "1")
    assert again is not None and again.column("a").maximum == 100.0
    assert again.to_dict() == wider.to_dict()

    # The files download as the version's folder.
    folder = registry.download_version(f"models:/{name}/1", tmp_path / "download")
    assert folder.name == f"{name}-v1" and (folder / "gnomon-model.yaml").is_file()

    registry.delete_version(name, 2)
    assert [v.version for v in registry.search_versions(name)] == [1]


def test_registering_errors_in_both_modes(mode: str, data: pd.DataFrame) -> None:
    with pytest.raises(NotFound, match="'ghost-model'"):
        gnomon.load_model("models:/ghost-model/1")
    gnomon.set_experiment(_unique("errors"))
    with gnomon.start_run() as run:
        uri = gnomon.log_model(_fit(data), "model", input_example=data[["a", "b"]])
    name = _unique("errs")
    with pytest.raises(InvalidInput, match="alias '123' reads like a version number"):
        gnomon.register_model(uri, name, alias="123")
    with pytest.raises(InvalidInput, match="no gnomon model at 'elsewhere'"):
        gnomon.register_model(f"runs:/{run.id}/elsewhere", name)
    with pytest.raises(NotFound, match="'nope'"):
        gnomon.register_model("runs:/nope/model", name)
    with pytest.raises(InvalidInput, match="not a run model URI"):
        gnomon.register_model("s3://bucket/model", name)
    registry = gnomon.Client().registry
    assert list(registry.search_versions(name)) == []
    registry.register(uri, name)
    with pytest.raises(NotFound, match="staging"):
        gnomon.load_model(f"models:/{name}@staging")


def test_import_mlflow_in_both_modes(mode: str, data: pd.DataFrame, tmp_path: Path) -> None:
    model = _fit(data)
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    with (folder / "model.pkl").open("wb") as handle:
        pickle.dump(model, handle)
    flavors = {"sklearn": {"pickled_model": "model.pkl", "serialization_format": "pickle"}}
    (folder / "MLmodel").write_text(yaml.safe_dump({"flavors": flavors}))
    name = _unique("imported")
    version = gnomon.Client().registry.import_mlflow(folder, name, alias="production")
    assert version.source.startswith("mlflow:") and version.aliases == ["production"]
    loaded = gnomon.load_model(f"models:/{name}@production")
    features = data[["a", "b"]]
    np.testing.assert_array_equal(loaded.predict(features), model.predict(features))  # type: ignore[attr-defined]
    with pytest.raises(NotFound, match="MLmodel"):
        gnomon.Client().registry.import_mlflow(tmp_path / "nothing", name)


# -- tenancy ---------------------------------------------------------------------------------


def test_another_workspace_cannot_reach_a_model(
    auth_server: LiveServer,
    gnomon_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    data: pd.DataFrame,
    tmp_path: Path,
) -> None:
    tag = uuid.uuid4().hex[:8]
    ws_a, token_a, _ = add_tenant(auth_server, f"a-{tag}", prefix="reg-")
    ws_b, token_b, _ = add_tenant(auth_server, f"b-{tag}", prefix="reg-")
    monkeypatch.setenv("GNOMON_URI", auth_server.url)
    monkeypatch.setenv("GNOMON_TOKEN", token_a)
    monkeypatch.setenv("GNOMON_WORKSPACE", ws_a)
    fluent._reset()
    gnomon.set_experiment("secret")
    with gnomon.start_run():
        uri = gnomon.log_model(_fit(data), "model", input_example=data[["a", "b"]])
    version = gnomon.register_model(uri, "secret-model", alias="production")
    assert version.created_by == f"reg-user-a-{tag}"

    bob = gnomon.Client(
        settings=gnomon.Settings(uri=auth_server.url, token=token_b, workspace=ws_b, home=tmp_path)
    ).registry
    with pytest.raises(NotFound, match="'secret-model'"):
        bob.get_model("secret-model")
    with pytest.raises(NotFound):
        bob.get_version("secret-model", "production")
    with pytest.raises(NotFound):
        bob.download_version("models:/secret-model/1", tmp_path / "stolen")
    with pytest.raises(NotFound):
        bob.get_contract("secret-model", 1)
    with pytest.raises(NotFound):
        bob.set_alias("secret-model", "production", 1)
    with pytest.raises(NotFound):
        bob.register(uri, "stolen")  # the run is Alice's too
    assert [m.name for m in bob.search_models()] == []
    assert list(bob.search_versions(run_id=version.run_id)) == []
    # Bob naming Alice's workspace is told nothing about it.
    intruder = HttpRegistryClient(bob.transport.in_workspace(ws_a))  # type: ignore[attr-defined]
    with pytest.raises(NotFound, match="workspace"):
        intruder.get_model("secret-model")
    # Alice still sees her model, unchanged.
    alice = gnomon.get_client().registry
    assert alice.get_model("secret-model").aliases == {"production": 1}

    # Alice's changes are in her workspace's audit log, under her name.
    alice.set_alias("secret-model", "staging", 1)
    auth = auth_server.services.auth
    assert auth is not None
    root = Principal(auth.get_user("admin").id, "admin", is_admin=True)
    events = auth.list_audit(root, ws_a, max_results=1000).items
    trail = {(e.actor, e.action, e.object_type, e.object_id) for e in events}
    user = f"reg-user-a-{tag}"
    assert (user, "create", "model_version", "secret-model/1") in trail
    assert (user, "update", "model_alias", "secret-model@staging") in trail
