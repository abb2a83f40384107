from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sklearn.linear_model import LogisticRegression

from gnomon.errors import AlreadyExists, InvalidInput, NotFound
from gnomon.modelfolder import MODEL_FILE, load_folder, read_spec, save_model, write_spec
from tests.unit.modelfolder.support import numeric_data


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    frame, label = numeric_data()
    folder = tmp_path / "model"
    save_model(
        LogisticRegression().fit(frame, label),
        folder,
        input_example=frame,
        requirements=["scikit-learn>=1.0", "extra-lib==1.2"],
        source_run_id="run-123",
        training_data="datasets/churn@v3",
        metadata={"owner": "ana"},
    )
    return folder


def test_yaml_contents(saved: Path) -> None:
    data = yaml.safe_load((saved / MODEL_FILE).read_text())

    assert data["flavor"] == "sklearn"
    assert data["loader"] == {"file": "model.joblib"}
    assert data["python_version"] == platform.python_version()
    assert f"numpy=={importlib.metadata.version('numpy')}" in data["requirements"]
    assert f"pandas=={importlib.metadata.version('pandas')}" in data["requirements"]
    assert f"joblib=={importlib.metadata.version('joblib')}" in data["requirements"]
    # A requirement given by the caller replaces the inferred pin of the same package.
    assert "scikit-learn>=1.0" in data["requirements"]
    assert not any(r.startswith("scikit-learn==") for r in data["requirements"])
    assert "extra-lib==1.2" in data["requirements"]
    assert (data["source_run_id"], data["training_data"]) == ("run-123", "datasets/churn@v3")
    assert data["metadata"] == {"owner": "ana"}
    digest = hashlib.sha256((saved / "model.joblib").read_bytes()).hexdigest()
    assert data["files"] == {"model.joblib": digest}
    assert [c["name"] for c in data["contract"]["inputs"]] == ["a", "b", "c", "d"]


def test_changed_byte_is_refused(saved: Path) -> None:
    file = saved / "model.joblib"
    content = bytearray(file.read_bytes())
    content[len(content) // 2] ^= 0xFF
    file.write_bytes(bytes(content))

    with pytest.raises(InvalidInput, match=r"'model\.joblib'.*does not match its recorded sha256"):
        load_folder(saved)


def test_deleted_file_is_refused(saved: Path) -> None:
    (saved / "model.joblib").unlink()
    with pytest.raises(InvalidInput, match=r"'model\.joblib' is missing"):
        load_folder(saved)


def test_extra_file_is_refused(saved: Path) -> None:
    (saved / "sub").mkdir()
    (saved / "sub" / "payload.pkl").write_bytes(b"x")
    with pytest.raises(InvalidInput, match=r"sub/payload.pkl"):
        load_folder(saved)


def test_edited_yaml_still_loads(saved: Path) -> None:
    spec = read_spec(saved)
    assert spec.contract is not None
    edited = dataclasses.replace(spec, contract=spec.contract.with_column("a", maximum=100.0))
    write_spec(saved, edited)

    assert read_spec(saved) == edited
    assert load_folder(saved).contract == edited.contract


@pytest.mark.parametrize(
    ("module", "package"),
    [("sklearn", "scikit-learn"), ("joblib", "joblib")],
)
def test_missing_library_names_the_package(
    saved: Path, monkeypatch: pytest.MonkeyPatch, module: str, package: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(InvalidInput, match=f"needs the '{package}' package: pip install {package}"):
        load_folder(saved)


@pytest.mark.parametrize(
    ("flavor", "package"),
    [
        ("xgboost", "xgboost"),
        ("lightgbm", "lightgbm"),
        ("pytorch", "torch"),
        ("onnx", "onnxruntime"),
        ("pyfunc", "cloudpickle"),
    ],
)
def test_missing_library_of_each_flavor(
    saved: Path, monkeypatch: pytest.MonkeyPatch, flavor: str, package: str
) -> None:
    # Relabel the folder: the library check comes before the flavor reads any file.
    write_spec(saved, dataclasses.replace(read_spec(saved), flavor=flavor))
    monkeypatch.setitem(sys.modules, package, None)
    with pytest.raises(InvalidInput, match=f"pip install {package}") as caught:
        load_folder(saved)
    assert caught.value.details == {"package": package}


def test_no_model_folder(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no model at"):
        load_folder(tmp_path)


def test_bad_yaml(saved: Path) -> None:
    (saved / MODEL_FILE).write_text("flavor: [unclosed")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        read_spec(saved)
    (saved / MODEL_FILE).write_text("flavor: sklearn\npython_version: '3.11'\nsurprise: 1\n")
    with pytest.raises(InvalidInput, match="unknown keys \\['surprise'\\]"):
        read_spec(saved)


def test_unknown_flavor_in_yaml(saved: Path) -> None:
    write_spec(saved, dataclasses.replace(read_spec(saved), flavor="os.system"))
    with pytest.raises(InvalidInput, match=r"unknown model flavor 'os\.system'"):
        load_folder(saved)


def test_newer_format_is_refused(saved: Path) -> None:
    write_spec(saved, dataclasses.replace(read_spec(saved), format_version=99))
    with pytest.raises(InvalidInput, match="upgrade gnomon"):
        read_spec(saved)


def test_existing_folder_is_refused(saved: Path) -> None:
    with pytest.raises(AlreadyExists):
        save_model(LogisticRegression(), saved)


def test_failed_save_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        save_model(LogisticRegression(), tmp_path / "m", flavor="xgboost")
    assert list(tmp_path.iterdir()) == []


def test_import_is_light() -> None:
    """``import gnomon.modelfolder`` loads no ML library, nor NumPy or pandas."""
    heavy = ("numpy", "pandas", "sklearn", "xgboost", "lightgbm", "torch", "onnxruntime")
    shown = f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    code = f"import sys, gnomon.modelfolder; {shown}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
