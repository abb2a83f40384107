from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gnomon.errors import InvalidInput
from gnomon.modelfolder import ColumnSpec, Contract
from gnomon.modelfolder.inputs import to_frame

CONTRACT = Contract(
    inputs=[
        ColumnSpec("a", "float64"),
        ColumnSpec("n", "int64"),
        ColumnSpec("s", "category", categories=["x", "y"]),
    ]
)
EXPECTED = pd.DataFrame({"a": [1.0, 2.0], "n": [3, 4], "s": ["x", "y"]})


@pytest.mark.parametrize(
    "data",
    [
        pd.DataFrame({"s": ["x", "y"], "n": [3, 4], "a": [1, 2]}),
        {"n": [3, 4], "a": (1, 2), "s": np.array(["x", "y"])},
        [{"a": 1, "n": 3, "s": "x"}, {"s": "y", "n": 4, "a": 2.0}],
        np.array([[1, 3, "x"], [2, 4, "y"]], dtype=object),
        [[1, 3, "x"], [2, 4, "y"]],
    ],
    ids=["dataframe", "columns", "records", "numpy", "rows"],
)
def test_every_form_gives_the_same_frame(data: object) -> None:
    frame = to_frame(data, CONTRACT)
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), EXPECTED, check_dtype=False)
    assert list(frame.dtypes.astype(str))[:2] == ["float64", "int64"]


def test_a_dict_of_scalars_is_one_record() -> None:
    frame = to_frame({"a": 1.5, "n": 2, "s": "x"}, CONTRACT)
    assert frame.to_dict(orient="records") == [{"a": 1.5, "n": 2, "s": "x"}]


def test_a_1d_array_is_one_row() -> None:
    assert to_frame(np.array([1.0, 2.0, 3.0])).shape == (1, 3)


def test_unknown_and_missing_columns() -> None:
    with pytest.raises(InvalidInput, match=r"unknown input columns \['zz'\]"):
        to_frame({"a": [1], "n": [1], "s": ["x"], "zz": [0]}, CONTRACT)
    with pytest.raises(InvalidInput, match=r"missing input columns \['s'\]"):
        to_frame({"a": [1], "n": [1]}, CONTRACT)
    with pytest.raises(InvalidInput, match="array has 2 columns but the contract has 3"):
        to_frame(np.zeros((1, 2)), CONTRACT)


def test_unreadable_inputs() -> None:
    with pytest.raises(InvalidInput, match="cannot read input of type str"):
        to_frame("a,b")
    with pytest.raises(InvalidInput, match="no rows"):
        to_frame([])
    with pytest.raises(InvalidInput, match="cannot be read as float64"):
        to_frame({"a": ["heavy"], "n": [1], "s": ["x"]}, CONTRACT)
