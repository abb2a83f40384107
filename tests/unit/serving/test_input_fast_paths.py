"""The hot path's shortcuts give exactly what the general path gives."""

from __future__ import annotations

import pandas as pd
import pytest

from gnomon.modelfolder.contract import Contract
from gnomon.modelfolder.infer import infer_contract
from gnomon.modelfolder.inputs import to_frame
from gnomon.serving.inputs import _float_records, parse_body


@pytest.mark.parametrize(
    "records",
    [
        [{"a": 1.5, "b": -2.0}],
        [{"a": 1.5, "b": -2.0}, {"a": 0.0, "b": float("inf")}],
    ],
)
def test_float_records_match_pandas(records: list[dict[str, float]]) -> None:
    fast = _float_records(records)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, pd.DataFrame(records))


@pytest.mark.parametrize(
    "records",
    [
        [{"a": 1, "b": 2.0}],  # an int: pandas would make an int64 column
        [{"a": 1.0, "b": "x"}],
        [{"a": 1.0, "b": 2.0}, {"b": 2.0, "a": 1.0}],  # another key order
        [{"a": 1.0}, {"a": 1.0, "b": 2.0}],
        [{"a": True}],
    ],
)
def test_anything_else_takes_the_general_path(records: list[dict[str, object]]) -> None:
    assert _float_records(records) is None
    assert parse_body(b'{"records": [{"a": 1, "b": 2.0}]}', None, None)["a"].dtype == "int64"


def test_an_aligned_frame_is_passed_through_and_others_are_aligned() -> None:
    example = pd.DataFrame({"x": [1.0, 2.0], "n": [1, 2]})
    contract: Contract = infer_contract(example)
    aligned = example.copy()
    assert to_frame(aligned, contract) is aligned
    shuffled = example[["n", "x"]].astype({"n": "float64"})
    result = to_frame(shuffled, contract)
    assert list(result.columns) == ["x", "n"] and str(result["n"].dtype) == "int64"


@pytest.mark.parametrize("dtype", ["Float64", ">f8", "float32", "object"])
def test_a_column_of_another_dtype_is_cast_not_passed_through(dtype: str) -> None:
    contract: Contract = infer_contract(pd.DataFrame({"x": [1.0, 2.0]}))
    given = pd.DataFrame({"x": pd.Series([1.0, 2.0], dtype=dtype)})
    result = to_frame(given, contract)
    assert result is not given and result["x"].dtype == "float64"
