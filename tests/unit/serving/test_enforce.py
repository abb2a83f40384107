from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest

from gnomon.errors import InvalidInput
from gnomon.modelfolder import ColumnSpec, Contract
from gnomon.serving.enforce import MAX_REPORTED, Policy, Violation, enforce, raise_for

CONTRACT = Contract(
    inputs=[
        ColumnSpec("hour", "int64", minimum=0, maximum=23),
        ColumnSpec("temp", "float64", nullable=True, minimum=-30.0, maximum=50.0),
        ColumnSpec("city", "category", categories=["lyon", "oslo"]),
        ColumnSpec("name", "string"),
        ColumnSpec("flag", "bool"),
        ColumnSpec("day", "datetime"),
    ]
)
HOUR = "int64 in [0, 23]"
TEMP = "float64 in [-30.0, 50.0]"
CITIES = "one of ['lyon', 'oslo']"


def _frame(**changes: list[Any]) -> pd.DataFrame:
    """Two clean rows, with some columns replaced."""
    columns: dict[str, Any] = {
        "hour": [5, 6],
        "temp": [12.5, None],
        "city": ["lyon", "oslo"],
        "name": ["a", "b"],
        "flag": [True, False],
        "day": ["2024-01-01", "2024-01-02T03:00:00"],
    }
    columns.update(changes)
    return pd.DataFrame(columns)


def _found(frame: pd.DataFrame, policy: Policy = Policy.REJECT) -> list[Violation]:
    return enforce(frame, CONTRACT, policy)[1]


def test_clean_frame_has_no_violations_and_contract_dtypes() -> None:
    shuffled = _frame()[["day", "flag", "name", "city", "temp", "hour"]]
    out, violations = enforce(shuffled, CONTRACT)
    assert violations == []
    assert list(out.columns) == CONTRACT.input_names
    assert out["hour"].dtype == np.int64
    assert out["temp"].dtype == np.float64
    assert out["temp"].isna().tolist() == [False, True]
    assert isinstance(out["city"].dtype, pd.CategoricalDtype)
    assert list(out["city"].cat.categories) == ["lyon", "oslo"]
    assert out["city"].tolist() == ["lyon", "oslo"]
    assert out["name"].tolist() == ["a", "b"]
    assert out["flag"].dtype == np.bool_
    assert pd.api.types.is_datetime64_any_dtype(out["day"].dtype)
    assert out["day"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02 03:00")]


def test_object_columns_of_the_right_types_are_cast() -> None:
    frame = _frame().astype(object)
    out, violations = enforce(frame, CONTRACT)
    assert violations == []
    assert out["hour"].dtype == np.int64
    assert out["flag"].dtype == np.bool_
    assert out["hour"].tolist() == [5, 6]


def test_lossless_float_to_int_is_accepted() -> None:
    out, violations = enforce(_frame(hour=[2.0, 7.0]), CONTRACT)
    assert violations == []
    assert out["hour"].dtype == np.int64
    assert out["hour"].tolist() == [2, 7]


def test_missing_and_unknown_columns() -> None:
    frame = _frame().drop(columns=["hour"]).assign(extra=[1, 2])
    out, violations = enforce(frame, CONTRACT)
    assert violations == [
        Violation(-1, "extra", "unknown_column", f"a column in {CONTRACT.input_names}"),
        Violation(-1, "hour", "missing_column", HOUR),
    ]
    assert list(out.columns) == CONTRACT.input_names
    assert out["hour"].isna().all()


@pytest.mark.parametrize(
    ("column", "values", "expected", "bad"),
    [
        ("hour", [5, "abc"], "an integer", "abc"),
        ("hour", [5, True], "an integer", True),
        ("hour", [5, 1.5], "an integer", 1.5),
        ("temp", [1.0, "warm"], "a number", "warm"),
        ("temp", [1.0, False], "a number", False),
        ("city", ["lyon", 5], CITIES, 5),
        ("city", ["lyon", [1]], CITIES, [1]),
        ("name", ["a", 5], "a string", 5),
        ("flag", [True, "yes"], "a boolean", "yes"),
        ("flag", [True, 1], "a boolean", 1),
        ("day", ["2024-01-01", "soon"], "an ISO 8601 date or datetime", "soon"),
        ("day", ["2024-01-01", 5], "an ISO 8601 date or datetime", 5),
    ],
)
def test_wrong_type(column: str, values: list[Any], expected: str, bad: Any) -> None:
    assert _found(_frame(**{column: values})) == [Violation(1, column, "wrong_type", expected, bad)]


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("hour", [1.5, 2.5]),
        ("hour", ["5", "6"]),
        ("temp", [True, False]),
        ("name", [1, 2]),
        ("flag", [1, 0]),
        ("flag", [1.0, 0.0]),
        ("day", [1, 2]),
    ],
)
def test_wrong_type_for_a_whole_typed_column(column: str, values: list[Any]) -> None:
    found = _found(_frame(**{column: values}))
    assert [(v.row, v.column, v.problem) for v in found] == [
        (0, column, "wrong_type"),
        (1, column, "wrong_type"),
    ]


def test_out_of_range() -> None:
    found = _found(_frame(hour=[-1, 77], temp=[51.0, -30.0]))
    assert found == [
        Violation(0, "hour", "below_minimum", HOUR, -1),
        Violation(0, "temp", "above_maximum", TEMP, 51.0),
        Violation(1, "hour", "above_maximum", HOUR, 77),
    ]


def test_unseen_category() -> None:
    assert _found(_frame(city=["lyon", "paris"])) == [
        Violation(1, "city", "unseen_category", CITIES, "paris")
    ]


@pytest.mark.parametrize(
    ("column", "values", "expected"),
    [
        ("hour", [5, None], "a non-null int64"),
        ("city", ["lyon", None], "a non-null category"),
        ("name", [None, "b"], "a non-null string"),
        ("flag", [True, None], "a non-null bool"),
        ("day", ["2024-01-01", None], "a non-null datetime"),
    ],
)
def test_null_where_none_is_allowed(column: str, values: list[Any], expected: str) -> None:
    row = values.index(None)
    assert _found(_frame(**{column: values})) == [Violation(row, column, "null", expected)]


def test_null_in_a_nullable_column_is_fine() -> None:
    assert _found(_frame(temp=[None, np.nan])) == []


def test_violations_in_several_rows_are_listed_together_by_row() -> None:
    frame = pd.DataFrame(
        {
            "hour": [77, 3, "x", 4],
            "temp": [1.0, 99.0, 2.0, 3.0],
            "city": ["lyon", "paris", "rome", "oslo"],
            "name": ["a", "b", "c", "d"],
            "flag": [True, False, True, None],
            "day": ["2024-01-01"] * 4,
        }
    )
    found = [(v.row, v.column, v.problem, v.value) for v in _found(frame)]
    assert found == [
        (0, "hour", "above_maximum", 77),
        (1, "temp", "above_maximum", 99.0),
        (1, "city", "unseen_category", "paris"),
        (2, "hour", "wrong_type", "x"),
        (2, "city", "unseen_category", "rome"),
        (3, "flag", "null", None),
    ]


def test_clip_repairs_ranges_only() -> None:
    frame = _frame(hour=[-1, 77], temp=[-40.0, 60.0], city=["lyon", "paris"])
    out, violations = enforce(frame, CONTRACT, Policy.CLIP)
    assert out["hour"].tolist() == [0, 23]
    assert out["hour"].dtype == np.int64
    assert out["temp"].tolist() == [-30.0, 50.0]
    assert violations == [Violation(1, "city", "unseen_category", CITIES, "paris")]


def test_clip_keeps_integers_inside_fractional_bounds() -> None:
    contract = Contract(inputs=[ColumnSpec("n", "int64", minimum=0.5, maximum=9.5)])
    out, violations = enforce(pd.DataFrame({"n": [0, 10, 5]}), contract, "clip")  # type: ignore[arg-type]
    assert violations == []
    assert out["n"].tolist() == [1, 9, 5]


def test_warn_returns_violations_and_a_usable_frame() -> None:
    frame = _frame(hour=[77, 1.5], city=["paris", "oslo"], flag=["yes", True])
    out, violations = enforce(frame, CONTRACT, Policy.WARN)
    assert [(v.row, v.column, v.problem) for v in violations] == [
        (0, "hour", "above_maximum"),
        (0, "city", "unseen_category"),
        (0, "flag", "wrong_type"),
        (1, "hour", "wrong_type"),
    ]
    assert out["hour"].dtype == np.float64  # 1.5 cannot be an int64: it became NaN
    assert out["hour"].iloc[0] == 77
    assert np.isnan(out["hour"].iloc[1])
    assert out["city"].isna().tolist() == [True, False]
    assert out["flag"].tolist() == [None, True]


def test_values_are_json_safe() -> None:
    contract = Contract(inputs=[ColumnSpec("x", "float64", maximum=1.0)])
    frame = pd.DataFrame({"x": pd.Series([np.float32(2.0), np.inf, {"a": 1}], dtype=object)})
    found = enforce(frame, contract)[1]
    assert [v.value for v in found] == [2.0, "inf", {"a": 1}]
    assert type(found[0].value) is float
    orjson.dumps([v.to_dict() for v in found])


def test_a_changed_contract_is_not_served_from_cache() -> None:
    frame = _frame(hour=[5, 20])
    assert _found(frame) == []
    stricter = CONTRACT.with_column("hour", maximum=12)
    found = enforce(frame, stricter)[1]
    assert found == [Violation(1, "hour", "above_maximum", "int64 in [0, 12]", 20)]


def test_index_is_kept_and_rows_are_positions() -> None:
    frame = _frame(hour=[5, 99]).set_axis([10, 20])
    out, violations = enforce(frame, CONTRACT)
    assert list(out.index) == [10, 20]
    assert violations[0].row == 1


def test_same_result_without_pandas_private_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _frame(hour=[5, 77])
    expected_out, expected_found = enforce(frame, CONTRACT)
    monkeypatch.delattr(pd.DataFrame, "_iter_column_arrays")
    monkeypatch.delattr(pd.DataFrame, "_from_arrays")
    out, found = enforce(frame, CONTRACT)
    pd.testing.assert_frame_equal(out, expected_out)
    assert found == expected_found


def test_raise_for_lists_every_violation() -> None:
    found = _found(_frame(hour=[77, "x"]))
    with pytest.raises(InvalidInput) as caught:
        raise_for(found)
    assert caught.value.message == (
        "input breaks the model's contract: 2 problems; first: column 'hour', row 0: "
        f"above_maximum, expected {HOUR}, got 77"
    )
    assert caught.value.details == {
        "violations": [
            {"row": 0, "column": "hour", "problem": "above_maximum", "expected": HOUR, "value": 77},
            {
                "row": 1,
                "column": "hour",
                "problem": "wrong_type",
                "expected": "an integer",
                "value": "x",
            },
        ],
        "count": 2,
    }


def test_raise_for_caps_the_list() -> None:
    found = [Violation(i, "hour", "above_maximum", HOUR, 77) for i in range(MAX_REPORTED + 5)]
    with pytest.raises(InvalidInput) as caught:
        raise_for(found)
    assert len(caught.value.details["violations"]) == MAX_REPORTED
    assert caught.value.details["count"] == MAX_REPORTED + 5
    assert caught.value.details["omitted"] == 5


def test_raise_for_nothing_does_nothing() -> None:
    raise_for([])


def test_policy_reads_its_name() -> None:
    assert Policy("warn") is Policy.WARN
    assert [p.value for p in Policy] == ["reject", "warn", "clip"]
