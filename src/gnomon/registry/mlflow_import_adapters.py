"""What an imported MLflow model runs as when gnomon's own flavors cannot say it: objects saved
in gnomon's ``pyfunc`` flavor, loaded wherever the model is served.

- :class:`MlflowPythonModel` runs a custom ``mlflow.pyfunc.PythonModel`` as MLflow's pyfunc
  loader does. Its pickle and artifacts are files of the gnomon model folder; the flavor hands
  the folder to :meth:`MlflowPythonModel.gnomon_load_folder`, which unpickles the model (its
  class subclasses MLflow's, so ``mlflow`` must be importable, and the model's requirements
  name it) and calls ``load_context``.
- :class:`SklearnPredictFn` predicts with the method MLflow's ``pyfunc_predict_fn`` named.

This module is imported when such a model is unpickled: it imports nothing heavy.
"""

from __future__ import annotations

import bz2
import gzip
import inspect
import lzma
import os
import pickle
import shutil
import tempfile
import typing
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon.errors import InvalidInput, UserCodeError

if TYPE_CHECKING:
    import pandas as pd

# MLflow's python_model_compression values and how each file is opened.
OPENERS: dict[str | None, Any] = {
    None: open,
    "lzma": lzma.open,
    "bzip2": bz2.open,
    "gzip": gzip.open,
}
# The methods MLflow's pyfunc_predict_fn may name that predict from rows alone ("score" needs
# the labels too, so a served model could never answer).
PREDICT_FNS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba")


@dataclass(frozen=True)
class PythonModelContext:
    """What ``PythonModel.load_context`` and an old-style ``predict`` receive: the model's
    artifacts (name to the file or folder inside the gnomon model folder) and its config."""

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


def load_pickle(file: Path, compression: str | None = None) -> Any:
    """Unpickle ``file`` (an MLflow ``python_model.pkl`` or pickled model) with cloudpickle.

    Unpickling runs code: this is only called on a folder the person importing chose, or on
    a registered model's own hashed files.

    Raises:
        InvalidInput: an unknown compression, an unreadable file, or a module the pickle
            names that is not installed (named, with its pip install).
        UserCodeError: the pickle's own code raised.
    """
    import cloudpickle

    opener = OPENERS.get(compression)
    if opener is None:
        known = ", ".join(k for k in OPENERS if k)
        raise InvalidInput(f"unknown python_model_compression {compression!r}; known: {known}")
    try:
        with opener(file, "rb") as handle:
            return cloudpickle.load(handle)
    except ModuleNotFoundError as exc:
        package = (exc.name or "").split(".")[0]
        raise InvalidInput(
            f"the MLflow model file {file.name!r} needs the {package!r} package to load: "
            f"pip install {package}",
            {"package": package},
        ) from None
    except (OSError, EOFError, pickle.UnpicklingError) as exc:
        raise InvalidInput(f"{file.name!r} is not a readable pickle: {exc}") from None
    except Exception as exc:
        raise UserCodeError(f"unpickling {file.name!r} raised {exc!r}", original=exc) from exc


class MlflowPythonModel:
    """An MLflow ``PythonModel`` with gnomon's ``predict(frame)``; see the module docstring.

    Paths are relative to the gnomon model folder. ``param_defaults`` is ``None`` when the
    MLflow signature has no params schema (MLflow then hands the model no params).
    """

    def __init__(
        self,
        pickle_file: str,
        compression: str | None,
        artifacts: dict[str, str],
        model_config: dict[str, Any],
        param_defaults: dict[str, Any] | None,
        tensor_dtype: str | None = None,
    ) -> None:
        self.pickle_file = pickle_file
        self.compression = compression
        self.artifacts = artifacts
        self.model_config = model_config
        self.param_defaults = param_defaults
        self.tensor_dtype = tensor_dtype  # set when MLflow's signature takes one array
        self._unload()

    def _unload(self) -> None:
        self._model: Any = None
        self._context = PythonModelContext()
        self._with_context = self._with_params = False
        self._hint: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        # The loaded model stays out of the pickle: it is read from its own file on load.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._unload()

    def gnomon_load_folder(self, folder: Path) -> None:
        """Unpickle the model from ``folder`` and call its ``load_context``.

        Raises:
            InvalidInput: a module the pickle names is not installed (``mlflow``, typically).
            UserCodeError: unpickling or the model's ``load_context`` raised.
        """
        model = load_pickle(folder / self.pickle_file, self.compression)
        context = PythonModelContext(self._keep_artifacts(folder), dict(self.model_config))
        load_context = getattr(model, "load_context", None)
        if callable(load_context):
            try:
                load_context(context)
            except Exception as exc:
                name = type(model).__qualname__
                raise UserCodeError(f"{name}.load_context raised {exc!r}", original=exc) from exc
        parameters = inspect.signature(model.predict).parameters
        self._with_context = passes_context(parameters)
        self._with_params = "params" in parameters
        self._hint = _input_hint(model.predict, parameters)
        self._model, self._context = model, context

    def _keep_artifacts(self, folder: Path) -> dict[str, str]:
        # gnomon loads a registered model from a temporary copy that it removes once loaded,
        # while MLflow's context.artifacts stay readable as long as the model (an old-style
        # predict reads them): they are linked, or copied, into a folder this object owns.
        if not self.artifacts:
            return {}
        root = Path(tempfile.mkdtemp(prefix="gnomon-mlflow-artifacts-"))
        weakref.finalize(self, shutil.rmtree, root, ignore_errors=True)
        kept = {}
        for name, path in self.artifacts.items():
            origin, copy = folder / path, root / path
            copy.parent.mkdir(parents=True, exist_ok=True)
            if origin.is_dir():
                shutil.copytree(origin, copy, copy_function=_link_or_copy)
            else:
                _link_or_copy(origin, copy)
            kept[name] = str(copy)
        return kept

    def predict(self, data: pd.DataFrame) -> Any:
        return self._call(data, None)

    def _call(self, data: pd.DataFrame, params: dict[str, Any] | None) -> Any:
        if self._model is None:
            raise InvalidInput("this imported MLflow model was not loaded from its folder")
        kwargs = {"params": self._params(params)} if self._with_params else {}
        model_input = self._input(data)
        if self._with_context:
            return self._model.predict(self._context, model_input, **kwargs)
        return self._model.predict(model_input, **kwargs)

    def _params(self, given: dict[str, Any] | None) -> dict[str, Any] | None:
        # MLflow's rule: without a params schema the model gets none; with one, the schema's
        # defaults filled in and names it does not list dropped.
        if self.param_defaults is None:
            return None if given is None else {}
        known = {k: v for k, v in (given or {}).items() if k in self.param_defaults}
        return {**self.param_defaults, **known}

    def _input(self, data: pd.DataFrame) -> Any:
        if self.tensor_dtype is not None:
            return data.to_numpy(dtype=self.tensor_dtype)
        if self._hint == "list[str]":
            texts = (c for c in data.columns if len(data) and isinstance(data[c].iloc[0], str))
            column = next(texts, None)
            if column is None:
                raise InvalidInput("this model takes a list of strings: send a text column")
            return data[column].tolist()
        if self._hint == "list[dict]":
            return data.to_dict(orient="records")
        return data


class MlflowPythonModelWithParams(MlflowPythonModel):
    """An :class:`MlflowPythonModel` whose own ``predict`` takes ``params`` (so the model
    server hands them on, as MLflow's scoring server does)."""

    def predict(self, data: pd.DataFrame, params: dict[str, Any] | None = None) -> Any:
        return self._call(data, params)


def _link_or_copy(origin: Path | str, copy: Path | str) -> None:
    try:
        os.link(origin, copy)  # no second copy of a large artifact, on one filesystem
    except OSError:
        shutil.copy2(origin, copy)


def passes_context(parameters: Any) -> bool:
    """Whether a PythonModel's ``predict`` takes the context first, as MLflow decides it:
    a parameter named ``context``, or two parameters besides ``params``."""
    names = [name for name in parameters if name not in ("self", "params")]
    return "context" in parameters or len(names) == 2


def _input_hint(predict: Any, parameters: Any) -> str | None:
    # MLflow hands a model typed list[str] its first text column, and one typed
    # list[dict[str, str]] the rows as records; any other input gets the DataFrame.
    names = [name for name in parameters if name not in ("self", "params")]
    position = 1 if passes_context(parameters) else 0
    if len(names) <= position:
        return None
    try:
        hint = typing.get_type_hints(predict).get(names[position])
    except Exception:  # a hint naming what cannot be imported here is no hint to act on
        return None
    if typing.get_origin(hint) is not list:
        return None
    (item,) = typing.get_args(hint) or (None,)
    if item is str:
        return "list[str]"
    if typing.get_origin(item) is dict and typing.get_args(item) == (str, str):
        return "list[dict]"
    return None


class SklearnPredictFn:
    """A scikit-learn model whose MLflow pyfunc answers with ``method`` (MLflow's
    ``pyfunc_predict_fn``, e.g. ``predict_proba``) instead of ``predict``."""

    def __init__(self, model: Any, method: str) -> None:
        if method not in PREDICT_FNS or not callable(getattr(model, method, None)):
            raise InvalidInput(
                f"pyfunc_predict_fn {method!r} is not a prediction method of this "
                f"{type(model).__name__}; gnomon imports {', '.join(PREDICT_FNS)}"
            )
        self.model = model
        self.method = method

    def predict(self, data: pd.DataFrame) -> Any:
        return self._run(self.method, data)

    @property
    def predict_proba(self) -> Any:
        if not callable(getattr(self.model, "predict_proba", None)):
            raise AttributeError("predict_proba")  # so the model reads as having none
        return lambda data: self._run("predict_proba", data)

    def _run(self, method: str, data: pd.DataFrame) -> Any:
        from gnomon.modelfolder.flavors.base import fitted_input

        return getattr(self.model, method)(fitted_input(self.model, data))
