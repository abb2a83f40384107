from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xgboost

from gnomon.errors import InvalidInput
from gnomon.modelfolder import read_spec
from tests.unit.modelfolder.support import (
    assert_same_everywhere,
    mixed_data,
    numeric_data,
    round_trip,
)


def test_classifier_round_trip(tmp_path: Path) -> None:
    frame, label = mixed_data()
    frame = frame.drop(columns="city")
    model = xgboost.XGBClassifier(n_estimators=8, max_depth=3).fit(frame, label)
    loaded = round_trip(model, tmp_path / "m", frame)

    assert loaded.flavor == "xgboost"
    assert loaded.spec.loader == {"file": "model.json", "kind": "XGBClassifier"}
    json.loads((tmp_path / "m" / "model.json").read_text())  # XGBoost's own format, no pickle
    assert_same_everywhere(loaded, frame, model.predict(frame))
    assert_same_everywhere(loaded, frame, model.predict_proba(frame), "predict_proba")


def test_regressor_round_trip(tmp_path: Path) -> None:
    frame, _ = numeric_data()
    model = xgboost.XGBRegressor(n_estimators=8).fit(frame, frame["a"] - frame["c"])
    loaded = round_trip(model, tmp_path / "m", frame)

    assert_same_everywhere(loaded, frame, model.predict(frame))
    with pytest.raises(InvalidInput, match=r"xgboost model .* has no predict_proba"):
        loaded.predict_proba(frame)


def test_booster_fitted_on_an_array(tmp_path: Path) -> None:
    frame, label = numeric_data()
    values = frame.to_numpy()
    booster = xgboost.train(
        {"objective": "binary:logistic"}, xgboost.DMatrix(values, label=label), 5
    )
    loaded = round_trip(booster, tmp_path / "m", values)

    assert read_spec(tmp_path / "m").loader["kind"] == "Booster"
    expected = booster.predict(xgboost.DMatrix(values))
    named = frame.set_axis(["x0", "x1", "x2", "x3"], axis=1)
    assert_same_everywhere(loaded, named, expected)
    np.testing.assert_array_less(expected, 1.0 + 1e-9)
