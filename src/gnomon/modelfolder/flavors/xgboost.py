"""XGBoost models in XGBoost's own JSON format, which needs no pickle and no user classes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon.errors import InvalidInput
from gnomon.modelfolder.flavors.base import Predictor, module_names, pin
from gnomon.modelfolder.flavors.sklearn import EstimatorPredictor

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.modelfolder.spec import ModelSpec

FILE = "model.json"
KINDS = ("XGBClassifier", "XGBRegressor", "XGBRanker", "Booster")


class XGBoostFlavor:
    name = "xgboost"
    imports: tuple[tuple[str, str], ...] = (("xgboost", "xgboost"),)

    def matches(self, model: object) -> bool:
        return "xgboost" in module_names(model)

    def requirements(self) -> list[str]:
        return pin("xgboost", "scikit-learn")

    def loader(self, model: Any) -> dict[str, Any]:
        return {"file": FILE, "kind": _kind(model)}

    def save(self, model: Any, folder: Path, example: pd.DataFrame | None) -> list[str]:
        model.save_model(str(folder / FILE))
        return [FILE]

    def load(self, folder: Path, spec: ModelSpec) -> Predictor:
        import xgboost

        kind = str(spec.loader.get("kind", "Booster"))
        if kind not in KINDS:
            raise InvalidInput(f"unknown xgboost model kind '{kind}'; expected one of {KINDS}")
        model = getattr(xgboost, kind)()
        model.load_model(str(folder / str(spec.loader.get("file", FILE))))
        return BoosterPredictor(model) if kind == "Booster" else EstimatorPredictor(model)


def _kind(model: Any) -> str:
    # A subclass of XGBClassifier is saved as the XGBoost class it derives from.
    for cls in type(model).__mro__:
        if cls.__name__ in KINDS and cls.__module__.startswith("xgboost"):
            return cls.__name__
    raise InvalidInput(f"cannot save a {type(model).__qualname__} as an xgboost model")


class BoosterPredictor:
    """A bare Booster: predict returns what the objective gives (probabilities, for logistic)."""

    has_proba = False

    def __init__(self, booster: Any) -> None:
        self.booster = booster

    def predict(self, frame: pd.DataFrame) -> Any:
        import xgboost

        data = frame if self.booster.feature_names else frame.to_numpy()
        return self.booster.predict(xgboost.DMatrix(data))

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        raise NotImplementedError  # LoadedModel checks has_proba first
