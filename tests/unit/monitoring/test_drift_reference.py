"""What the drift tests are given: columns of every input type (NumPy of any width, lists,
Arrow arrays chunked, with nulls or dictionary-encoded), nulls dropped and counted, unseen
categories, kinds inferred or named; and the bounded histograms the report charts draw."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gnomon.errors import InvalidInput
from gnomon.monitoring.drift import ColumnTest, DriftConfig, Reference, drift_report
from gnomon.monitoring.drift_reference import categorical_sample, numeric_sample
from gnomon.monitoring.histograms import BINS, OTHER, TOP

VALUES = np.arange(10.0)


@pytest.mark.parametrize(
    "values",
    [
        VALUES,
        VALUES.astype(np.float32),
        VALUES.astype(np.int8),
        VALUES.astype(np.uint32),
        list(VALUES),
        pa.array(VALUES.astype(np.int64)),
        pa.chunked_array([pa.array(VALUES[:4]), pa.array(VALUES[4:])]),
        pa.array(VALUES).slice(0),
    ],
    ids=["float64", "float32", "int8", "uint32", "list", "arrow-int", "chunked", "sliced"],
)
def test_numeric_inputs_of_any_type_give_the_same_sorted_floats(values: object) -> None:
    sample = numeric_sample("x", values)
    assert sample.values.dtype == np.float64
    assert sample.values.tolist() == VALUES.tolist() and sample.nulls == 0


def test_numeric_nulls_nan_and_infinities_are_dropped_and_counted() -> None:
    chunked = pa.chunked_array(
        [
            pa.array(values, pa.float64())
            for values in ([3.0, None, 1.0], [None, None], [math.nan, 2.0])
        ]
    )
    sample = numeric_sample("x", chunked)
    assert (sample.values.tolist(), sample.nulls) == ([1.0, 2.0, 3.0], 4)
    sliced = pa.array([9.0, None, 5.0, None, 4.0, 8.0]).slice(1, 4)  # None, 5, None, 4
    assert numeric_sample("x", sliced).values.tolist() == [4.0, 5.0]
    with_inf = numeric_sample("x", np.array([1.0, np.inf, -np.inf, np.nan, 0.5]))
    assert (with_inf.values.tolist(), with_inf.nulls) == ([0.5, 1.0], 3)
    objects = numeric_sample("x", np.array([2, None, 1], dtype=object))
    assert (objects.values.tolist(), objects.nulls) == ([1.0, 2.0], 1)
    booleans = numeric_sample("x", pa.array([True, False, None, True]))
    assert (booleans.values.tolist(), booleans.nulls) == ([0.0, 1.0, 1.0], 1)


def test_numeric_values_that_are_not_numbers_are_refused() -> None:
    with pytest.raises(InvalidInput, match="column 'x' is numeric but its values are not numbers"):
        numeric_sample("x", pa.array(["a", "b"]))
    with pytest.raises(InvalidInput, match="column 'x'"):
        numeric_sample("x", np.ones((2, 2)))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["b", "a", "b", None], {"a": 1, "b": 2}),
        (np.array(["b", "a", "b"]), {"a": 1, "b": 2}),
        ([1, 2, 2, None], {1: 1, 2: 2}),
        ([True, False, True], {True: 2, False: 1}),
        (np.array([1.5, np.nan, 1.5]), {1.5: 2}),
        (pa.array(["b", "a", None, "b"]).dictionary_encode(), {"a": 1, "b": 2}),
        (
            pa.chunked_array(
                [
                    pa.array(["b", None]).dictionary_encode(),
                    pa.array(["a", "b"]).dictionary_encode(),
                ]
            ),
            {"a": 1, "b": 2},
        ),
    ],
    ids=["list", "numpy-str", "ints", "bools", "floats-nan", "dictionary", "chunked-dictionaries"],
)
def test_categorical_inputs_give_their_counts(values: object, expected: dict) -> None:  # type: ignore[type-arg]
    sample = categorical_sample("c", values)
    assert dict(zip(sample.values.to_pylist(), sample.counts.tolist(), strict=True)) == expected
    assert sample.nulls == len(values) - sum(expected.values())  # type: ignore[arg-type]


def test_mixed_categorical_values_are_refused() -> None:
    with pytest.raises(InvalidInput, match="column 'c' holds values of mixed types"):
        categorical_sample("c", ["a", 1])


def test_kinds_are_inferred_or_named() -> None:
    columns = {
        "f": np.zeros(3, dtype=np.float32),
        "i": [1, 2, 3],
        "b": np.array([True, False, True]),
        "s": ["a", "b", "c"],
        "arrow": pa.array([1, 2, 3], pa.int16()),
        "text": pa.array(["x", "y", "z"]).dictionary_encode(),
    }
    assert Reference.from_columns(columns).kinds == {
        "f": "numeric",
        "i": "numeric",
        "b": "categorical",
        "s": "categorical",
        "arrow": "numeric",
        "text": "categorical",
    }
    named = Reference.from_columns(columns, kinds={"i": "categorical"})
    assert named.kinds["i"] == "categorical"
    with pytest.raises(InvalidInput, match="column 'i': unknown kind 'text'"):
        Reference.from_columns(columns, kinds={"i": "text"})  # type: ignore[dict-item]
    with pytest.raises(InvalidInput, match=r"kinds name columns that are not there: \['nope'\]"):
        Reference.from_columns(columns, kinds={"nope": "numeric"})
    with pytest.raises(InvalidInput, match="mapping of name to values or a pyarrow Table"):
        Reference.from_columns([1, 2, 3])  # type: ignore[arg-type]


def test_unseen_current_categories_count_as_drift_and_show_in_the_histogram() -> None:
    reference = Reference.from_columns({"c": ["a"] * 60 + ["b"] * 40})
    current = {"c": ["a"] * 30 + ["b"] * 20 + ["new"] * 50}
    for test in ("chisquare", "jensenshannon", "psi"):
        config = DriftConfig(columns={"c": ColumnTest(test)})
        column = drift_report(reference, current, config).column("c")
        assert column.status == "drift", test
        assert column.statistic is not None and np.isfinite(column.statistic)
        histogram = column.histogram
        assert dict(zip(histogram.categories, histogram.current, strict=True)) == {
            "a": 30,
            "b": 20,
            "new": 50,
        }
        assert dict(zip(histogram.categories, histogram.reference, strict=True))["new"] == 0


def test_categories_match_across_widths_but_not_across_kinds() -> None:
    codes = pa.array([1, 2] * 50, pa.int64())
    reference = Reference.from_columns({"c": codes}, kinds={"c": "categorical"})
    same = drift_report(reference, {"c": pa.array([1, 2] * 50, pa.int32())}).column("c")
    assert same.status == "ok" and same.histogram.categories == (1, 2)
    text = Reference.from_columns({"c": pa.array(["a", "b"] * 50, pa.string())})
    wide = drift_report(text, {"c": pa.array(["a", "b"] * 50, pa.large_string())}).column("c")
    assert wide.status == "ok"
    other = drift_report(reference, {"c": ["1", "2"] * 50}).column("c")
    assert other.status == "drift"  # "1" is not 1
    assert set(other.histogram.categories) == {1, 2, "1", "2"}


def test_numeric_histogram_is_bounded_on_shared_edges() -> None:
    rng = np.random.default_rng(0)
    reference = Reference.from_columns({"x": rng.normal(size=10_000)})
    current = rng.normal(3.0, size=5_000)  # mostly beyond the reference's range
    histogram = drift_report(reference, {"x": current}).column("x").histogram
    assert len(histogram.reference) == len(histogram.current) == BINS
    assert len(histogram.edges) == BINS + 1 and list(histogram.edges) == sorted(histogram.edges)
    assert histogram.edges[-1] == current.max() and histogram.edges[0] == min(
        current.min(), reference.column("x").sample.values[0]
    )
    assert sum(histogram.reference) == 10_000 and sum(histogram.current) == 5_000
    assert histogram.current == tuple(np.histogram(current, bins=histogram.edges)[0].tolist())
    assert histogram.current[-1] > 2_500  # the shift piles up past the reference's top edge


def test_numeric_histogram_of_few_distinct_values_and_of_nothing() -> None:
    reference = Reference.from_columns({"x": [1.0] * 50 + [2.0] * 50, "y": [None] * 40})
    report = drift_report(reference, {"x": [1.0] * 40, "y": [None] * 40})
    x = report.column("x").histogram
    assert x.edges == (1.0, 2.0) and (x.reference, x.current) == ((100,), (40,))
    y = report.column("y").histogram
    assert (y.edges, y.reference, y.current) == ((), (), ())


def test_categorical_histogram_keeps_the_top_categories_and_sums_the_rest() -> None:
    rng = np.random.default_rng(1)
    labels = np.array([f"v{i:02d}" for i in range(40)])
    weights = 1 / np.arange(1, 41)
    weights /= weights.sum()
    reference = Reference.from_columns({"c": rng.choice(labels, 20_000, p=weights)})
    current = rng.choice(labels, 5_000, p=weights[::-1])
    histogram = drift_report(reference, {"c": current}).column("c").histogram
    assert len(histogram.categories) == TOP + 1 and histogram.other
    assert histogram.categories[-1] == OTHER
    assert sum(histogram.reference) == 20_000 and sum(histogram.current) == 5_000
    totals = [r + c for r, c in zip(histogram.reference[:-1], histogram.current[:-1], strict=True)]
    assert totals == sorted(totals, reverse=True)
    few = drift_report(reference, {"c": ["v00"] * 40}).column("c").histogram
    assert few.other  # 40 reference categories still
    small = Reference.from_columns({"c": ["a", "b"] * 20})
    assert drift_report(small, {"c": ["a"] * 40}).column("c").histogram.other is False


def test_a_reference_serves_many_windows_unchanged() -> None:
    rng = np.random.default_rng(2)
    reference = Reference.from_columns(
        {"x": rng.normal(size=3000), "c": rng.choice(["a", "b"], 3000)}
    )
    before = reference.column("x").sample.values.copy()
    windows = [
        {"x": rng.normal(shift, size=2000), "c": rng.choice(["a", "b"], 2000)} for shift in (0, 1)
    ]
    assert [drift_report(reference, window).drifted for window in windows] == [(), ("x",)]
    assert np.array_equal(reference.column("x").sample.values, before)


def test_a_parquet_report_imports_neither_pandas_nor_scipy_stats(tmp_path: Path) -> None:
    """At 100,000 rows the report takes about 0.1 s; importing pandas (which pyarrow's
    to_numpy does) or scipy.stats would add 0.2 s and 1 s to a monitor's every start."""
    rng = np.random.default_rng(0)
    for name, rows in (("reference", 5000), ("current", 4000)):
        table = pa.table(
            {
                "x": rng.normal(size=rows),
                "i": rng.integers(0, 9, rows),
                "c": rng.choice(["a", "b", "c"], rows),
            }
        )
        pq.write_table(table, tmp_path / f"{name}.parquet")
    code = f"""
import sys
import pyarrow.parquet as pq
from gnomon.monitoring.drift import Reference, drift_report
def read(name):
    return pq.ParquetFile({str(tmp_path)!r} + f"/{{name}}.parquet", read_dictionary=["c"]).read()
report = drift_report(Reference.from_columns(read("reference")), read("current"))
assert report.drifted == (), report.drifted
print(sorted(name for name in ("pandas", "scipy.stats", "scipy.spatial") if name in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
