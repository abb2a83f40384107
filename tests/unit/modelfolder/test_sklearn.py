from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from gnomon.errors import InvalidInput
from gnomon.modelfolder import load_folder, save_model
from tests.unit.modelfolder.support import (
    assert_same_everywhere,
    mixed_data,
    numeric_data,
    round_trip,
)


def test_logistic_regression_fitted_on_an_array(tmp_path: Path) -> None:
    frame, label = numeric_data()
    values = frame.to_numpy()
    model = LogisticRegression().fit(values, label)
    loaded = round_trip(model, tmp_path / "m", values)

    assert loaded.flavor == "sklearn"
    assert loaded.contract is not None
    assert loaded.contract.input_names == ["x0", "x1", "x2", "x3"]
    named = frame.set_axis(loaded.contract.input_names, axis=1)
    assert_same_everywhere(loaded, named, model.predict(values))
    assert_same_everywhere(loaded, named, model.predict_proba(values), "predict_proba")


def test_pipeline_on_a_mixed_frame(tmp_path: Path) -> None:
    frame, label = mixed_data()
    features = ColumnTransformer(
        [
            ("num", StandardScaler(), ["height_m", "age"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"]),
        ]
    )
    model = Pipeline([("features", features), ("clf", LogisticRegression())]).fit(frame, label)
    loaded = round_trip(model, tmp_path / "m", frame.head(50))

    assert loaded.has_proba
    assert_same_everywhere(loaded, frame, model.predict(frame))
    assert_same_everywhere(loaded, frame, model.predict_proba(frame), "predict_proba")
    city = loaded.contract.column("city") if loaded.contract else None
    assert city is not None and city.categories == ["lyon", "oslo", "pune"]


def test_regressor_has_no_predict_proba(tmp_path: Path) -> None:
    frame, _ = numeric_data()
    model = LinearRegression().fit(frame, frame["a"] * 2.0)
    loaded = round_trip(model, tmp_path / "m", frame)

    np.testing.assert_allclose(loaded.predict(frame), model.predict(frame))
    assert not loaded.has_proba
    with pytest.raises(InvalidInput, match=r"sklearn model .* has no predict_proba"):
        loaded.predict_proba(frame)


def test_output_contract_is_inferred_from_predictions(tmp_path: Path) -> None:
    frame, label = numeric_data()
    spec = save_model(LogisticRegression().fit(frame, label), tmp_path / "m", input_example=frame)

    assert spec.contract is not None
    [output] = spec.contract.outputs
    assert (output.name, output.dtype) == ("prediction", "int64")


def test_saved_without_example_has_no_contract_and_still_predicts(tmp_path: Path) -> None:
    frame, label = numeric_data()
    model = LogisticRegression().fit(frame, label)
    save_model(model, tmp_path / "m")
    loaded = load_folder(tmp_path / "m")

    assert loaded.contract is None
    np.testing.assert_allclose(loaded.predict(frame), model.predict(frame))


def test_output_contract_is_what_the_model_produced(tmp_path: Path) -> None:
    """Outputs get no margin: a 0/1 classifier's contract says 0..1, not -1..2."""
    from sklearn.linear_model import LogisticRegression

    frame, label = numeric_data()
    loaded = round_trip(LogisticRegression().fit(frame, label), tmp_path / "m", frame)
    assert loaded.contract is not None
    (output,) = loaded.contract.outputs
    assert (output.minimum, output.maximum) == (0, 1)
    (first_input,) = [c for c in loaded.contract.inputs if c.name == "a"]
    assert first_input.minimum < frame["a"].min()  # inputs keep their margin
