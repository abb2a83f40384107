"""For every flavor: log in a run, register, load by alias, same predictions as the original."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import gnomon
from tests.unit.modelfolder.support import numeric_data
from tests.unit.modelfolder.test_pyfunc import Threshold


def _sklearn(frame: pd.DataFrame, label: np.ndarray) -> tuple[Any, Any, Any]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, label)
    return model, model.predict(frame), model.predict_proba(frame)


def _xgboost(frame: pd.DataFrame, label: np.ndarray) -> tuple[Any, Any, Any]:
    from xgboost import XGBClassifier

    model = XGBClassifier(n_estimators=10, max_depth=2).fit(frame, label)
    return model, model.predict(frame), model.predict_proba(frame)


def _lightgbm(frame: pd.DataFrame, label: np.ndarray) -> tuple[Any, Any, Any]:
    from lightgbm import LGBMClassifier

    model = LGBMClassifier(n_estimators=10, min_child_samples=5, verbose=-1).fit(frame, label)
    return model, model.predict(frame), model.predict_proba(frame)


def _pytorch(frame: pd.DataFrame, label: np.ndarray) -> tuple[Any, Any, Any]:
    from tests.unit.modelfolder.test_torch import mlp, reference

    model = mlp()
    return model, reference(model, frame.to_numpy()), None


def _onnx(frame: pd.DataFrame, label: np.ndarray) -> tuple[Any, Any, Any]:
    import tempfile

    import onnx

    from tests.unit.modelfolder.test_onnx import export
    from tests.unit.modelfolder.test_torch import mlp, reference

    model = mlp()
    with tempfile.TemporaryDirectory() as tmp:
        proto = onnx.load(str(export(model, Path(tmp) / "mlp.onnx")))
    return proto, reference(model, frame.to_numpy()), None


def _pyfunc(frame: pd.DataFrame, label: np.ndarray) -> tuple[Any, Any, Any]:
    model = Threshold(0.0)
    return model, model.predict(frame), model.predict_proba(frame)


BUILDERS: dict[str, Callable[[pd.DataFrame, np.ndarray], tuple[Any, Any, Any]]] = {
    "sklearn": _sklearn,
    "xgboost": _xgboost,
    "lightgbm": _lightgbm,
    "pytorch": _pytorch,
    "onnx": _onnx,
    "pyfunc": _pyfunc,
}


@pytest.mark.parametrize("flavor", list(BUILDERS))
def test_log_register_load_by_alias(flavor: str, gnomon_home: Path) -> None:
    frame, label = numeric_data()
    model, predictions, probabilities = BUILDERS[flavor](frame, label)
    with gnomon.start_run(name=flavor):
        uri = gnomon.log_model(model, "model", input_example=frame)
    version = gnomon.register_model(uri, f"m-{flavor}", alias="production")
    assert version.flavor == flavor
    loaded = gnomon.load_model(f"models:/m-{flavor}@production")
    assert loaded.flavor == flavor
    np.testing.assert_allclose(loaded.predict(frame), predictions, rtol=1e-5, atol=1e-6)
    if probabilities is not None:
        np.testing.assert_allclose(loaded.predict_proba(frame), probabilities, rtol=1e-5)
