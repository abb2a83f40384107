"""Reading the model object out of an MLflow model folder, flavor by flavor, into what
gnomon's own flavor of it saves: an XGBoost or LightGBM model is loaded with its library, a
scikit-learn model unpickled, a custom ``PythonModel`` wrapped to load from its own files.

Unpickling runs code. The person importing chose the folder, in their own process (the
embedded client, or the remote client before it uploads): never on the server.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from gnomon.errors import InvalidInput
from gnomon.registry.mlflow_import_adapters import (
    MlflowPythonModel,
    MlflowPythonModelWithParams,
    SklearnPredictFn,
    load_pickle,
)

if TYPE_CHECKING:
    from gnomon.registry.mlflow_import_signature import Signature

SUPPORTED: Final = (
    "sklearn, xgboost, lightgbm, and python_function with loader_module mlflow.sklearn or "
    "mlflow.pyfunc.model (a pickled PythonModel)"
)
FILES_FOLDER: Final = "mlflow"  # where files kept as MLflow wrote them go in the gnomon folder
_XGBOOST_CLASSES: Final = {
    "xgboost.core.Booster": "Booster",
    "xgboost.sklearn.XGBClassifier": "XGBClassifier",
    "xgboost.sklearn.XGBRegressor": "XGBRegressor",
    "xgboost.sklearn.XGBRanker": "XGBRanker",
}
_LIGHTGBM_WRAPPERS: Final = (
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "lightgbm.sklearn.LGBMRanker",
)
_PYTHON_MODEL_LOADER: Final = "mlflow.pyfunc.model"


@dataclass(frozen=True, slots=True)
class MlflowModel:
    """What an MLflow folder holds, ready for gnomon's ``save_model``."""

    model: Any
    flavor: str  # gnomon's flavor to save it in
    source_flavor: str  # the MLflow flavor it was read from
    files: tuple[str, ...] = ()  # paths in the MLflow folder the model loads from at run time
    needs_mlflow: bool = False  # its classes come from mlflow (a PythonModel subclass)
    pickled_with: tuple[str, ...] = ()  # libraries whose objects gnomon's pyfunc pickles


def read_model(folder: Path, mlmodel: dict[str, Any], signature: Signature | None) -> MlflowModel:
    """The model of an MLflow folder whose ``MLmodel`` is ``mlmodel``.

    Raises:
        InvalidInput: a flavor, model class, loader or prediction method gnomon cannot
            import, a missing file, or a library that is not installed (named).
    """
    flavors = mlmodel.get("flavors")
    if not isinstance(flavors, dict):
        raise InvalidInput("the MLmodel file lists no flavors: not an MLflow model")
    pyfunc = flavors.get("python_function") or {}
    if not isinstance(pyfunc, dict):
        raise InvalidInput("the MLmodel's python_function flavor is not a mapping")
    predict_fn = str(pyfunc.get("predict_fn") or "predict")
    for name, read in (("xgboost", _xgboost), ("lightgbm", _lightgbm), ("sklearn", _sklearn)):
        info = flavors.get(name)
        if isinstance(info, dict):
            _refuse_code_paths(info.get("code"), name)
            return read(folder, info, predict_fn)
    if pyfunc:
        _refuse_code_paths(pyfunc.get("code"), "python_function")
        return _pyfunc(folder, pyfunc, predict_fn, signature)
    names = ", ".join(sorted(map(str, flavors))) or "none"
    raise InvalidInput(f"MLflow flavors {names} cannot be imported; gnomon imports {SUPPORTED}")


def _refuse_code_paths(code: object, flavor: str) -> None:
    if code:
        raise InvalidInput(
            f"the MLflow {flavor} model was saved with code_paths ({code!r}); gnomon cannot "
            "import modules a model brings along: install them, then save the model without"
        )


def _sklearn(folder: Path, info: dict[str, Any], predict_fn: str) -> MlflowModel:
    file = model_file(folder, info.get("pickled_model", "model.pkl"))
    model = unpickle(file, str(info.get("serialization_format") or "cloudpickle"))
    if predict_fn == "predict":
        return MlflowModel(model, "sklearn", "sklearn")
    adapter = SklearnPredictFn(model, predict_fn)
    return MlflowModel(adapter, "pyfunc", "sklearn", pickled_with=("scikit-learn",))


def _xgboost(folder: Path, info: dict[str, Any], predict_fn: str) -> MlflowModel:
    _only_predict(predict_fn, "xgboost")
    class_name = str(info.get("model_class") or "xgboost.core.Booster")
    kind = _XGBOOST_CLASSES.get(class_name)
    if kind is None:
        raise InvalidInput(
            f"the MLflow xgboost model is a {class_name}; gnomon imports {sorted(_XGBOOST_CLASSES)}"
        )
    file = model_file(folder, info.get("data"))
    model = getattr(_library("xgboost"), kind)()
    model.load_model(str(file))
    return MlflowModel(model, "xgboost", "xgboost")


def _lightgbm(folder: Path, info: dict[str, Any], predict_fn: str) -> MlflowModel:
    _only_predict(predict_fn, "lightgbm")
    class_name = str(info.get("model_class") or "lightgbm.basic.Booster")
    file = model_file(folder, info.get("data"))
    lightgbm = _library("lightgbm")
    if class_name == "lightgbm.basic.Booster":
        return MlflowModel(lightgbm.Booster(model_file=str(file)), "lightgbm", "lightgbm")
    if class_name not in _LIGHTGBM_WRAPPERS:
        known = ["lightgbm.basic.Booster", *_LIGHTGBM_WRAPPERS]
        raise InvalidInput(f"the MLflow lightgbm model is a {class_name}; gnomon imports {known}")
    model = unpickle(file, str(info.get("serialization_format") or "cloudpickle"))
    return MlflowModel(model, "lightgbm", "lightgbm")


def _only_predict(predict_fn: str, flavor: str) -> None:
    if predict_fn != "predict":
        raise InvalidInput(
            f"the MLflow {flavor} model's pyfunc_predict_fn is {predict_fn!r}; MLflow's "
            f"{flavor} pyfunc has only predict, so it cannot predict with it either"
        )


def _pyfunc(
    folder: Path, pyfunc: dict[str, Any], predict_fn: str, signature: Signature | None
) -> MlflowModel:
    loader = pyfunc.get("loader_module")
    if loader == "mlflow.sklearn" and "model_path" in pyfunc:
        info = {"pickled_model": pyfunc["model_path"], "serialization_format": "cloudpickle"}
        return _sklearn(folder, info, predict_fn)
    if "model_code_path" in pyfunc or loader == "mlflow.pyfunc.loaders.code_model":
        raise InvalidInput(
            "the MLflow model is a model from code (a Python file run by mlflow at load): "
            "gnomon imports pickled PythonModels only"
        )
    if loader != _PYTHON_MODEL_LOADER or "python_model" not in pyfunc:
        raise InvalidInput(
            f"the MLflow python_function loader_module {loader!r} is not one gnomon "
            f"understands; gnomon imports {SUPPORTED}"
        )
    _only_predict(predict_fn, "python_function")
    return _python_model(folder, pyfunc, signature)


def _python_model(folder: Path, pyfunc: dict[str, Any], signature: Signature | None) -> MlflowModel:
    pickled = model_file(folder, pyfunc["python_model"])
    compression = pyfunc.get("python_model_compression")
    # Read here to tell how its predict is called and to fail now, not when it is served.
    python_model = load_pickle(pickled, compression)
    if not callable(getattr(python_model, "predict", None)):
        raise InvalidInput(f"the MLflow python_model in {pickled.name!r} has no predict method")
    artifacts = _artifacts(folder, pyfunc.get("artifacts"))
    takes_params = "params" in inspect.signature(python_model.predict).parameters
    adapter = (MlflowPythonModelWithParams if takes_params else MlflowPythonModel)(
        pickle_file=kept(pyfunc["python_model"]),
        compression=compression,
        artifacts={name: kept(path) for name, path in artifacts.items()},
        model_config=dict(pyfunc.get("config") or {}),
        param_defaults=signature.param_defaults() if signature else None,
        tensor_dtype=signature.tensor_dtype() if signature else None,
    )
    needs_mlflow = any(c.__module__.startswith("mlflow") for c in type(python_model).__mro__)
    files = (str(pyfunc["python_model"]), *artifacts.values())
    return MlflowModel(adapter, "pyfunc", "python_function", files, needs_mlflow)


def _artifacts(folder: Path, listed: object) -> dict[str, str]:
    if not listed:
        return {}
    if not isinstance(listed, dict):
        raise InvalidInput("the MLmodel's python_function artifacts are not a mapping")
    found = {}
    for name, info in listed.items():
        path = info.get("path") if isinstance(info, dict) else None
        inside(folder, path, f"artifact {name!r}")
        if not (folder / str(path)).exists():
            raise InvalidInput(f"the MLflow model's artifact {name!r} ({path!r}) is missing")
        found[str(name)] = str(path)
    return found


def kept(path: str) -> str:
    """Where a file of the MLflow folder is kept in the gnomon folder."""
    return f"{FILES_FOLDER}/{path}"


def inside(folder: Path, path: object, what: str) -> Path:
    """``folder / path``, refused unless it names something inside ``folder``."""
    if not isinstance(path, str) or not path or Path(path).is_absolute():
        raise InvalidInput(f"the MLmodel names {what} as {path!r}, not a path in the folder")
    target = (folder / path).resolve()
    if not target.is_relative_to(folder.resolve()):
        raise InvalidInput(f"the MLmodel names {what} as {path!r}, outside the model folder")
    return folder / path


def model_file(folder: Path, path: object) -> Path:
    file = inside(folder, path, "the model file")
    if not file.is_file():
        raise InvalidInput(f"the MLflow model file {path!r} is missing from {str(folder)!r}")
    return file


def _library(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise InvalidInput(
            f"this MLflow model is a {name} model: pip install {name}", {"package": name}
        ) from None


def unpickle(file: Path, serialization: str) -> Any:
    """A scikit-learn style model file: skops, or pickle/cloudpickle."""
    if serialization == "skops":
        try:
            import skops.io as sio
        except ImportError as exc:
            raise InvalidInput("this MLflow model uses skops: pip install skops") from exc
        # The person importing chose this folder; its own listed types are the ones trusted.
        return sio.load(file, trusted=sio.get_untrusted_types(file=file))
    return load_pickle(file)  # unpickling runs code: import only folders you trust


__all__ = ["FILES_FOLDER", "SUPPORTED", "MlflowModel", "read_model"]
