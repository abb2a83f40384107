"""Any object with a ``predict`` method, pickled with cloudpickle.

cloudpickle, unlike pickle, also stores classes defined in ``__main__`` or a notebook, so a
user's wrapper loads without their module on the path. Unpickling runs code: load_folder
checks file hashes first. Exceptions from the user's predict become UserCodeError.

An object with a ``gnomon_load_folder(folder)`` method is handed its folder once unpickled,
so it can read files saved beside its pickle (an imported MLflow PythonModel's own pickle
and artifacts): an unpickled object cannot know where it was read from.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon.errors import UserCodeError
from gnomon.modelfolder.flavors.base import Predictor, pin

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.modelfolder.spec import ModelSpec

FILE = "model.pkl"


class PyfuncFlavor:
    name = "pyfunc"
    imports: tuple[tuple[str, str], ...] = (("cloudpickle", "cloudpickle"),)

    def matches(self, model: object) -> bool:
        return callable(getattr(model, "predict", None))

    def requirements(self) -> list[str]:
        return pin("cloudpickle")

    def loader(self, model: Any) -> dict[str, Any]:
        return {"file": FILE, "class": f"{type(model).__module__}.{type(model).__qualname__}"}

    def save(self, model: Any, folder: Path, example: pd.DataFrame | None) -> list[str]:
        import cloudpickle

        with (folder / FILE).open("wb") as out:
            cloudpickle.dump(model, out)
        return [FILE]

    def load(self, folder: Path, spec: ModelSpec) -> Predictor:
        import cloudpickle

        with (folder / str(spec.loader.get("file", FILE))).open("rb") as handle:
            model = cloudpickle.load(handle)
        hook = getattr(model, "gnomon_load_folder", None)
        if callable(hook):
            hook(folder)  # it raises gnomon's errors (UserCodeError for the user's code)
        return PyfuncPredictor(model)


class PyfuncPredictor:
    def __init__(self, model: Any) -> None:
        self.model = model

    @property
    def has_proba(self) -> bool:
        return callable(getattr(self.model, "predict_proba", None))

    def predict(self, frame: pd.DataFrame) -> Any:
        return self._call("predict", frame)

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        return self._call("predict_proba", frame)

    def _call(self, method: str, frame: pd.DataFrame) -> Any:
        try:
            return getattr(self.model, method)(frame)
        except Exception as exc:
            name = type(self.model).__qualname__
            raise UserCodeError(f"{name}.{method} raised {exc!r}", original=exc) from exc
