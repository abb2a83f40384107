"""LightGBM: scikit-learn wrappers through joblib, a bare Booster as LightGBM's text format.

The wrappers are pickled because their text dump loses the class labels; see the
scikit-learn flavor for why that is acceptable (hashes are checked before unpickling).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon.modelfolder.flavors.base import Predictor, module_names, pin
from gnomon.modelfolder.flavors.sklearn import EstimatorPredictor, load_joblib

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.modelfolder.spec import ModelSpec

WRAPPER_FILE = "model.joblib"
BOOSTER_FILE = "model.txt"


class LightGBMFlavor:
    name = "lightgbm"
    imports: tuple[tuple[str, str], ...] = (("lightgbm", "lightgbm"),)

    def matches(self, model: object) -> bool:
        return "lightgbm" in module_names(model)

    def requirements(self) -> list[str]:
        return pin("lightgbm", "scikit-learn", "joblib")

    def loader(self, model: Any) -> dict[str, Any]:
        if _is_booster(model):
            return {"file": BOOSTER_FILE, "kind": "Booster"}
        return {"file": WRAPPER_FILE, "kind": "sklearn"}

    def save(self, model: Any, folder: Path, example: pd.DataFrame | None) -> list[str]:
        if _is_booster(model):
            model.save_model(str(folder / BOOSTER_FILE))
            return [BOOSTER_FILE]
        import joblib

        joblib.dump(model, folder / WRAPPER_FILE)
        return [WRAPPER_FILE]

    def load(self, folder: Path, spec: ModelSpec) -> Predictor:
        if spec.loader.get("kind") == "Booster":
            import lightgbm

            file = folder / str(spec.loader.get("file", BOOSTER_FILE))
            return LgbBoosterPredictor(lightgbm.Booster(model_file=str(file)))
        return EstimatorPredictor(load_joblib(folder / str(spec.loader.get("file", WRAPPER_FILE))))


def _is_booster(model: Any) -> bool:
    return any(c.__name__ == "Booster" for c in type(model).__mro__)


class LgbBoosterPredictor:
    has_proba = False

    def __init__(self, booster: Any) -> None:
        self.booster = booster

    def predict(self, frame: pd.DataFrame) -> Any:
        # Columns are already in the contract's (training) order; values avoid name checks.
        return self.booster.predict(frame.to_numpy())

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        raise NotImplementedError  # LoadedModel checks has_proba first
