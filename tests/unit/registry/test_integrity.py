"""Embedded: logged and registered models are checked against digests in the database, a
logged model is sealed, and tampering with storage is refused before anything is unpickled."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import gnomon
from gnomon.errors import Conflict, InvalidInput, NotFound
from gnomon.modelfolder import ColumnSpec, Contract
from gnomon.registry.entities import NewVersion
from tests.fixtures.payloads import PICKLE, tamper


@pytest.fixture
def logged(gnomon_home: Path) -> tuple[str, str]:
    """A sklearn model logged by a finished run: (runs:/ URI, run id)."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    with gnomon.start_run() as run:
        uri = gnomon.log_model(
            LogisticRegression().fit(frame, frame["a"] > 0), "model", input_example=frame
        )
    return uri, run.id


def _run_folder(run_id: str) -> Path:
    return Path(gnomon.get_client().get_run(run_id).artifact_uri) / "model"


def test_a_rewritten_registry_copy_is_refused_by_alias(
    logged: tuple[str, str], tmp_path: Path
) -> None:
    version = gnomon.register_model(logged[0], "churn", alias="production")
    marker = tmp_path / "pwned"
    tamper(Path(version.storage_uri), marker)

    with pytest.raises(InvalidInput, match=f"'{PICKLE}'.*recorded sha256"):
        gnomon.load_model("models:/churn@production")
    with pytest.raises(InvalidInput, match=PICKLE):
        gnomon.get_client().registry.download_version("models:/churn/1", tmp_path / "d")
    assert not marker.exists()


def test_a_rewritten_yaml_alone_is_refused(logged: tuple[str, str]) -> None:
    version = gnomon.register_model(logged[0], "churn")
    spec_file = Path(version.storage_uri) / "gnomon-model.yaml"
    spec = yaml.safe_load(spec_file.read_text())
    spec["flavor"] = "pyfunc"  # its hashes still match the files
    spec_file.write_text(yaml.safe_dump(spec))

    with pytest.raises(InvalidInput, match=r"gnomon-model\.yaml"):
        gnomon.load_model("models:/churn/1")
    registry = gnomon.get_client().registry
    with pytest.raises(InvalidInput, match=r"gnomon-model\.yaml"):
        registry.get_contract("churn", 1)
    with pytest.raises(InvalidInput, match=r"gnomon-model\.yaml"):  # never blessed by an edit
        registry.set_contract("churn", 1, _any_contract())
    assert registry.get_version("churn", 1).spec_sha256 == version.spec_sha256


def _any_contract() -> Contract:
    return Contract(inputs=[ColumnSpec("a", "float64")])


def test_a_stale_contract_edit_is_a_conflict(logged: tuple[str, str]) -> None:
    version = gnomon.register_model(logged[0], "churn")
    client = gnomon.get_client()
    service = client._services.registry
    assert service is not None and version.spec_sha256 is not None
    client.registry.set_contract("churn", 1, _any_contract())  # the digest moves on

    with pytest.raises(Conflict, match="changed meanwhile"):
        service.record_spec_digest(client.scope, "churn", 1, version.spec_sha256, "a" * 64)
    assert gnomon.load_model("models:/churn/1").contract.input_names == ["a"]


def test_a_version_without_recorded_digests_does_not_load(
    logged: tuple[str, str], tmp_path: Path
) -> None:
    """A version registered before the digests were recorded (migration 0005)."""
    registered = gnomon.register_model(logged[0], "churn")
    client = gnomon.get_client()
    service = client._services.registry
    assert service is not None
    new = NewVersion("import:old", registered.storage_uri, "ann", flavor="sklearn")
    service.create_version(client.scope, "old", new)

    with pytest.raises(InvalidInput, match="no recorded sha256"):
        gnomon.load_model("models:/old/1")


def test_a_rewritten_logged_model_is_refused(logged: tuple[str, str], tmp_path: Path) -> None:
    uri, run_id = logged
    marker = tmp_path / "pwned"
    tamper(_run_folder(run_id), marker)

    with pytest.raises(InvalidInput, match=PICKLE):
        gnomon.load_model(uri)
    with pytest.raises(InvalidInput, match=PICKLE):
        gnomon.register_model(uri, "churn")
    assert not marker.exists()


def test_a_folder_logged_without_log_model_is_not_a_model(
    logged: tuple[str, str], tmp_path: Path
) -> None:
    client = gnomon.get_client()
    run = client.create_run(client.create_experiment("manual").id)
    shutil.copytree(_run_folder(logged[1]), tmp_path / "copied")
    client.log_artifact(run.id, tmp_path / "copied")

    with pytest.raises(InvalidInput, match="no gnomon model at 'copied'"):
        gnomon.register_model(f"runs:/{run.id}/copied", "churn")
    with pytest.raises(NotFound, match="no gnomon model recorded at 'copied'"):
        gnomon.load_model(f"runs:/{run.id}/copied")


def test_a_logged_model_is_sealed(logged: tuple[str, str], tmp_path: Path) -> None:
    uri, run_id = logged
    client = gnomon.get_client()
    (tmp_path / PICKLE).write_bytes(b"evil")

    with pytest.raises(Conflict, match="FINISHED"):
        client.log_artifact(run_id, tmp_path / PICKLE, "model")
    client.tracking.resume_run(client.scope, run_id)
    with pytest.raises(Conflict, match="sealed"):
        client.log_artifact(run_id, tmp_path / PICKLE, "model")
    with pytest.raises(Conflict, match="sealed"):
        client.log_text(run_id, "evil", "./model//gnomon-model.yaml")
    (tmp_path / "outer" / "model").mkdir(parents=True)
    (tmp_path / "outer" / "model" / PICKLE).write_bytes(b"evil")
    with pytest.raises(Conflict, match="sealed"):  # a folder that would cover the model
        client.log_artifact(run_id, tmp_path / "outer" / "model")
    assert client.log_text(run_id, "fine", "notes.txt") == "notes.txt"
    assert gnomon.load_model(uri).flavor == "sklearn"


def test_logging_a_second_model_under_the_same_name_is_a_conflict(gnomon_home: Path) -> None:
    from sklearn.linear_model import LinearRegression

    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0]})
    model = LinearRegression().fit(frame, frame["a"])
    with gnomon.start_run():
        gnomon.log_model(model, "model")
        with pytest.raises(Conflict, match="sealed"):
            gnomon.log_model(model, "model")
        assert gnomon.log_model(model, "model-2").endswith("/model-2")


def test_the_model_server_refuses_a_rewritten_version(
    logged: tuple[str, str], tmp_path: Path
) -> None:
    from gnomon.config import Settings
    from gnomon.serving.loading import ServeOptions, load_served

    version = gnomon.register_model(logged[0], "served", alias="production")
    marker = tmp_path / "pwned"
    tamper(Path(version.storage_uri), marker)

    with pytest.raises(InvalidInput, match=PICKLE):
        load_served(ServeOptions(uri="models:/served@production"), Settings())
    assert not marker.exists()
