from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gnomon.errors import InvalidInput, UserCodeError
from gnomon.modelfolder import load_folder, save_model
from tests.unit.modelfolder.support import assert_same_everywhere, numeric_data, round_trip


class Threshold:
    """A hand-written model: no library, just predict and predict_proba."""

    def __init__(self, cut: float) -> None:
        self.cut = cut

    def predict(self, frame: pd.DataFrame) -> list[int]:
        return [int(v > self.cut) for v in frame["a"] + frame["b"]]

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        p = 1 / (1 + np.exp(-(frame["a"] + frame["b"]).to_numpy()))
        return np.column_stack([1 - p, p])


class PredictOnly:
    def predict(self, frame: pd.DataFrame) -> Any:
        return frame["a"].to_numpy() * 3


class Broken:
    def predict(self, frame: pd.DataFrame) -> Any:
        raise ZeroDivisionError("user bug")


def test_round_trip_with_proba(tmp_path: Path) -> None:
    frame, _ = numeric_data()
    model = Threshold(0.25)
    loaded = round_trip(model, tmp_path / "m", frame)

    assert loaded.flavor == "pyfunc"
    assert isinstance(loaded.predict(frame), list)  # returned as the model returns it
    assert_same_everywhere(loaded, frame, model.predict(frame))
    assert_same_everywhere(loaded, frame, model.predict_proba(frame), "predict_proba")


def test_without_proba(tmp_path: Path) -> None:
    frame, _ = numeric_data()
    loaded = round_trip(PredictOnly(), tmp_path / "m", frame)

    assert_same_everywhere(loaded, frame, frame["a"].to_numpy() * 3)
    with pytest.raises(InvalidInput, match="pyfunc model"):
        loaded.predict_proba(frame)


def test_user_errors_become_user_code_error(tmp_path: Path) -> None:
    frame, _ = numeric_data()
    save_model(Broken(), tmp_path / "m", output_example=[0.0] * len(frame), input_example=frame)
    loaded = load_folder(tmp_path / "m")

    with pytest.raises(UserCodeError, match=r"Broken\.predict") as caught:
        loaded.predict(frame)
    assert isinstance(caught.value.original, ZeroDivisionError)


def test_object_without_predict_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot tell the flavor"):
        save_model(object(), tmp_path / "m")
    with pytest.raises(InvalidInput, match="not a 'pyfunc' model"):
        save_model(object(), tmp_path / "m", flavor="pyfunc")
