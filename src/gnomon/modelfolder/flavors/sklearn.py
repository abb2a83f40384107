"""scikit-learn estimators and pipelines, saved with joblib.

Loading a joblib file unpickles it, which runs code. That is why load_folder checks every
file's sha256 first, and why models are loaded only from the registry's own storage.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon.modelfolder.flavors.base import Predictor, fitted_input, module_names, pin

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.modelfolder.spec import ModelSpec

FILE = "model.joblib"


class SklearnFlavor:
    name = "sklearn"
    imports: tuple[tuple[str, str], ...] = (("sklearn", "scikit-learn"), ("joblib", "joblib"))

    def matches(self, model: object) -> bool:
        return "sklearn" in module_names(model) and hasattr(model, "predict")

    def requirements(self) -> list[str]:
        return pin("scikit-learn", "joblib")

    def loader(self, model: Any) -> dict[str, Any]:
        return {"file": FILE}

    def save(self, model: Any, folder: Path, example: pd.DataFrame | None) -> list[str]:
        import joblib

        joblib.dump(model, folder / FILE)
        return [FILE]

    def load(self, folder: Path, spec: ModelSpec) -> Predictor:
        return EstimatorPredictor(load_joblib(folder / str(spec.loader.get("file", FILE))))


def load_joblib(path: Path) -> Any:
    import joblib

    return joblib.load(path)


class EstimatorPredictor:
    """Any fitted object with scikit-learn's predict/predict_proba; LightGBM and XGBoost too."""

    def __init__(self, model: Any) -> None:
        self.model = model

    @property
    def has_proba(self) -> bool:
        return hasattr(self.model, "predict_proba")

    def predict(self, frame: pd.DataFrame) -> Any:
        return self.model.predict(fitted_input(self.model, frame))

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        return self.model.predict_proba(fitted_input(self.model, frame))
