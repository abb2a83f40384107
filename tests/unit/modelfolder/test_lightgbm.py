from __future__ import annotations

from pathlib import Path

import lightgbm
import pytest

from gnomon.errors import InvalidInput
from tests.unit.modelfolder.support import (
    assert_same_everywhere,
    mixed_data,
    numeric_data,
    round_trip,
)


def test_classifier_round_trip(tmp_path: Path) -> None:
    frame, label = mixed_data()
    frame = frame.drop(columns="city")
    model = lightgbm.LGBMClassifier(n_estimators=10, min_child_samples=5, verbose=-1)
    model.fit(frame, label)
    loaded = round_trip(model, tmp_path / "m", frame)

    assert loaded.flavor == "lightgbm"
    assert loaded.spec.loader["kind"] == "sklearn"
    assert_same_everywhere(loaded, frame, model.predict(frame))
    assert_same_everywhere(loaded, frame, model.predict_proba(frame), "predict_proba")


def test_booster_round_trip(tmp_path: Path) -> None:
    frame, label = numeric_data()
    booster = lightgbm.train(
        {"objective": "binary", "verbose": -1, "min_data_in_leaf": 5},
        lightgbm.Dataset(frame, label=label),
        num_boost_round=5,
    )
    loaded = round_trip(booster, tmp_path / "m", frame)

    assert loaded.spec.loader == {"file": "model.txt", "kind": "Booster"}
    assert_same_everywhere(loaded, frame, booster.predict(frame))
    with pytest.raises(InvalidInput, match="has no predict_proba"):
        loaded.predict_proba(frame)
