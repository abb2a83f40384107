from __future__ import annotations

import json

import pytest
import yaml

from gnomon.errors import InvalidInput
from gnomon.modelfolder import ColumnSpec, Contract


def sample() -> Contract:
    return Contract(
        inputs=[
            ColumnSpec("height_m", "float64", False, 1.4, 2.1),
            ColumnSpec("age", "int64", True, 12, 86),
            ColumnSpec("city", "category", False, categories=["lyon", "oslo"]),
        ],
        outputs=[ColumnSpec("prediction", "int64", False, 0, 2)],
        margin=0.1,
    )


def test_round_trips_through_json_and_yaml() -> None:
    contract = sample()
    assert Contract.from_dict(json.loads(json.dumps(contract.to_dict()))) == contract
    assert Contract.from_dict(yaml.safe_load(yaml.safe_dump(contract.to_dict()))) == contract


def test_absent_bounds_are_left_out_of_the_dict() -> None:
    assert sample().inputs[2].to_dict() == {
        "name": "city",
        "dtype": "category",
        "nullable": False,
        "categories": ["lyon", "oslo"],
    }


def test_with_column_edits_one_column() -> None:
    edited = sample().with_column("city", categories=["lyon", "oslo", "pune"])
    assert edited.column("city").categories == ["lyon", "oslo", "pune"]
    assert edited.inputs[:2] == sample().inputs[:2]
    with pytest.raises(InvalidInput, match="no input column 'nope'"):
        sample().with_column("nope", maximum=1)


def test_invalid_columns_are_refused() -> None:
    with pytest.raises(InvalidInput, match="dtype 'float32'"):
        ColumnSpec("x", "float32")
    with pytest.raises(InvalidInput, match="minimum 3 above maximum 1"):
        ColumnSpec("x", "int64", minimum=3, maximum=1)
    with pytest.raises(InvalidInput, match="more than once"):
        Contract(inputs=[ColumnSpec("x", "int64"), ColumnSpec("x", "int64")])
    with pytest.raises(InvalidInput, match="unknown keys \\['min'\\]"):
        ColumnSpec.from_dict({"name": "x", "dtype": "int64", "min": 0})
    with pytest.raises(InvalidInput, match="missing 'dtype'"):
        ColumnSpec.from_dict({"name": "x"})


def test_describe_shows_every_column() -> None:
    text = sample().describe()
    assert "age: int64? in [12, 86]" in text
    assert "city: category one of ['lyon', 'oslo']" in text
    assert text.splitlines()[-2] == "outputs:"
