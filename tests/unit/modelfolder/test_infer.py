from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gnomon.errors import InvalidInput
from gnomon.modelfolder import ColumnSpec, infer_contract
from gnomon.modelfolder.infer import infer_outputs


def test_float_bounds_widened_by_the_margin() -> None:
    contract = infer_contract({"x": [0.0, 5.0, 10.0]})
    assert contract.inputs == [ColumnSpec("x", "float64", False, -1.0, 11.0)]
    assert contract.margin == 0.1


def test_margin_is_a_parameter() -> None:
    [x] = infer_contract({"x": [0.0, 10.0]}, margin=0.5).inputs
    assert (x.minimum, x.maximum) == (-5.0, 15.0)
    [x] = infer_contract({"x": [0.0, 10.0]}, margin=0).inputs
    assert (x.minimum, x.maximum) == (0.0, 10.0)
    with pytest.raises(InvalidInput, match="margin"):
        infer_contract({"x": [0.0]}, margin=-1)


def test_int_bounds_stay_integers() -> None:
    [age] = infer_contract(pd.DataFrame({"age": [18, 20, 33]})).inputs
    assert age.dtype == "int64"
    assert (age.minimum, age.maximum) == (16, 35)  # 18 - 1.5 floored, 33 + 1.5 ceiled
    assert isinstance(age.minimum, int) and isinstance(age.maximum, int)


def test_constant_column_gets_room() -> None:
    [x] = infer_contract({"x": [4.0, 4.0]}).inputs
    assert (x.minimum, x.maximum) == pytest.approx((3.6, 4.4))


def test_nullability_from_the_data() -> None:
    contract = infer_contract({"x": [1.0, None, 3.0], "y": [1.0, 2.0, 3.0], "s": ["a", None, "b"]})
    assert [(c.name, c.nullable) for c in contract.inputs] == [
        ("x", True),
        ("y", False),
        ("s", True),
    ]
    assert contract.column("s").categories == ["a", "b"]


def test_categories_sorted_up_to_fifty() -> None:
    small = pd.DataFrame({"city": ["oslo", "lyon", "pune", "lyon"]})
    [city] = infer_contract(small).inputs
    assert (city.dtype, city.categories) == ("category", ["lyon", "oslo", "pune"])

    fifty = [f"v{i:02d}" for i in range(50)]
    assert infer_contract({"c": fifty}).inputs[0].categories == sorted(fifty)


def test_more_than_fifty_values_is_free_text() -> None:
    [c] = infer_contract({"c": [f"id-{i}" for i in range(51)]}).inputs
    assert c == ColumnSpec("c", "string", False)


def test_pandas_categorical_bool_and_datetime() -> None:
    frame = pd.DataFrame(
        {
            "k": pd.Categorical(["b", "a", "b"]),
            "flag": [True, False, True],
            "when": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
        }
    )
    k, flag, when = infer_contract(frame).inputs
    assert (k.dtype, k.categories) == ("category", ["a", "b"])
    assert flag == ColumnSpec("flag", "bool", False)
    assert when == ColumnSpec("when", "datetime", False)


def test_numpy_columns_are_named_by_position() -> None:
    contract = infer_contract(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert contract.input_names == ["x0", "x1"]


def test_outputs_from_predictions() -> None:
    [label] = infer_outputs(np.array([0, 1, 1]))
    assert (label.name, label.dtype) == ("prediction", "int64")
    logits = infer_outputs(np.array([[0.1, 0.9], [0.8, 0.2]]))
    assert [c.name for c in logits] == ["prediction_0", "prediction_1"]
    [text] = infer_outputs(["yes", "no"])
    assert text.categories == ["no", "yes"]
