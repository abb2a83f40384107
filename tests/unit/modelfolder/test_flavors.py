from __future__ import annotations

import lightgbm
import pytest
import torch
import xgboost
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from gnomon.errors import InvalidInput
from gnomon.modelfolder import FLAVORS
from gnomon.modelfolder.flavors import flavor_of, get_flavor
from gnomon.modelfolder.flavors.base import Flavor
from gnomon.modelfolder.flavors.lightgbm import LightGBMFlavor
from gnomon.modelfolder.flavors.onnx import OnnxFlavor
from gnomon.modelfolder.flavors.pyfunc import PyfuncFlavor
from gnomon.modelfolder.flavors.sklearn import SklearnFlavor
from gnomon.modelfolder.flavors.torch import TorchFlavor
from gnomon.modelfolder.flavors.xgboost import XGBoostFlavor

# Checked by mypy: every flavor class satisfies the Flavor protocol.
ALL: list[Flavor] = [
    XGBoostFlavor(),
    LightGBMFlavor(),
    TorchFlavor(),
    OnnxFlavor(),
    SklearnFlavor(),
    PyfuncFlavor(),
]


def test_registry_names_match_the_classes() -> None:
    assert [f.name for f in ALL] == list(FLAVORS)
    assert [type(get_flavor(name)) for name in FLAVORS] == [type(f) for f in ALL]
    with pytest.raises(InvalidInput, match="unknown model flavor"):
        get_flavor("keras")


class HasPredict:
    def predict(self, data: object) -> list[int]:
        return []


@pytest.mark.parametrize(
    ("model", "name"),
    [
        (xgboost.XGBClassifier(), "xgboost"),  # also a scikit-learn estimator: order matters
        (lightgbm.LGBMRegressor(), "lightgbm"),
        (torch.nn.Linear(2, 1), "pytorch"),
        ("models/net.onnx", "onnx"),
        (make_pipeline(StandardScaler(), LogisticRegression()), "sklearn"),
        (HasPredict(), "pyfunc"),
    ],
)
def test_flavor_is_guessed_from_the_type(model: object, name: str) -> None:
    assert flavor_of(model).name == name


def test_requirements_are_pinned() -> None:
    for flavor in ALL:
        pins = flavor.requirements()
        assert pins, flavor.name
        assert all("==" in pin for pin in pins)
