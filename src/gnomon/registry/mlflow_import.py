"""Reading an MLflow model folder (``MLmodel`` file; sklearn and python_function flavors) so it
can be saved as a gnomon model and registered. MLflow itself is not needed."""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnomon.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class MlflowModel:
    model: Any
    input_example: Any
    flavor: str  # the MLflow flavor it was read from


class PythonModelAdapter:
    """Gives an ``mlflow.pyfunc.PythonModel`` the ``predict(data)`` every gnomon model has."""

    def __init__(self, python_model: Any) -> None:
        self.python_model = python_model

    def predict(self, data: Any) -> Any:
        return self.python_model.predict(None, data)


def read_mlflow_model(folder: Path) -> MlflowModel:
    """Load the model object and input example of an MLflow model folder.

    Raises:
        NotFound: there is no MLmodel file.
        InvalidInput: a flavor other than sklearn or python_function, or an unreadable file.
    """
    import yaml

    mlmodel_file = folder / "MLmodel"
    if not mlmodel_file.is_file():
        from gnomon.errors import NotFound

        raise NotFound(f"no MLmodel file in {str(folder)!r}: not an MLflow model folder")
    spec = yaml.safe_load(mlmodel_file.read_text()) or {}
    flavors = spec.get("flavors") or {}
    example = _input_example(folder, spec)
    if "sklearn" in flavors:
        return MlflowModel(_sklearn(folder, flavors["sklearn"]), example, "sklearn")
    pyfunc = flavors.get("python_function") or {}
    if pyfunc.get("loader_module") == "mlflow.sklearn" and "model_path" in pyfunc:
        info = {"pickled_model": pyfunc["model_path"], "serialization_format": "cloudpickle"}
        return MlflowModel(_sklearn(folder, info), example, "sklearn")
    if "python_model" in pyfunc:
        python_model = _unpickle(folder / pyfunc["python_model"], "cloudpickle")
        return MlflowModel(PythonModelAdapter(python_model), example, "python_function")
    names = ", ".join(sorted(flavors)) or "none"
    raise InvalidInput(
        f"MLflow flavors {names} cannot be imported yet: sklearn and python_function can"
    )


def _sklearn(folder: Path, info: dict[str, Any]) -> Any:
    file = folder / str(info.get("pickled_model", "model.pkl"))
    return _unpickle(file, str(info.get("serialization_format", "cloudpickle")))


def _unpickle(file: Path, serialization: str) -> Any:
    if not file.is_file():
        raise InvalidInput(f"the MLflow model file {file.name!r} is missing")
    if serialization == "skops":
        try:
            import skops.io as sio
        except ImportError as exc:
            raise InvalidInput("this MLflow model uses skops: pip install skops") from exc
        # The person importing chose this folder; its own listed types are the ones trusted.
        return sio.load(file, trusted=sio.get_untrusted_types(file=file))
    # Unpickling runs code: import only folders you trust (as with MLflow itself).
    try:
        import cloudpickle

        with file.open("rb") as handle:
            return cloudpickle.load(handle)
    except ImportError:
        with file.open("rb") as handle:
            return pickle.load(handle)


def _input_example(folder: Path, spec: dict[str, Any]) -> Any:
    info = spec.get("saved_input_example_info") or {}
    path = info.get("artifact_path")
    if not path or not (folder / path).is_file():
        return None
    import pandas as pd

    raw = json.loads((folder / path).read_text())
    if isinstance(raw, dict) and "columns" in raw and "data" in raw:
        return pd.DataFrame(raw["data"], columns=raw["columns"])
    if isinstance(raw, dict) and "dataframe_split" in raw:
        split = raw["dataframe_split"]
        return pd.DataFrame(split["data"], columns=split.get("columns"))
    if isinstance(raw, list):
        return pd.DataFrame(raw)
    return None
