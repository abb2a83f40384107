"""Drift reports: the changed columns of W6's data flagged and no others, false alarms at the
promised rate under no change, insufficient samples, the correction, the stored form, and the
errors of a bad config. The tests' own numbers are checked against SciPy in
test_drift_tests.py, the inputs and histograms in test_drift_reference.py."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from bench.data import W6_REWEIGHTED, W6_SHIFTED, w6_changed, w6_table
from gnomon.errors import InvalidInput, NotFound
from gnomon.monitoring.drift import (
    ColumnDrift,
    ColumnTest,
    DriftConfig,
    DriftReport,
    Reference,
    drift_report,
)
from gnomon.monitoring.drift_tests import adjust

ALPHA = 0.05
REPS, SMALL = 200, 300


@pytest.fixture(scope="module")
def w6_reference() -> Reference:
    return Reference.from_columns(w6_table(100_000, seed=1))


def test_w6_flags_exactly_the_changed_columns(w6_reference: Reference) -> None:
    report = drift_report(w6_reference, w6_table(100_000, seed=2, current=True))
    assert sorted(report.drifted) == w6_changed()
    assert len(report.columns) == 25 and report.drift_share == pytest.approx(6 / 25)
    assert report.dataset_drift is False  # 24% of the columns, under the default half
    by_test = {c.column: c.test for c in report.columns}
    assert {by_test[name] for name in W6_SHIFTED} == {"wasserstein"}
    assert by_test[W6_REWEIGHTED] == "jensenshannon"
    for column in report.columns:
        assert column.p_value is None and column.adjusted_p is None  # distances
        assert (column.n_reference, column.n_current) == (100_000, 100_000)
        if column.column in W6_SHIFTED:
            assert column.statistic == pytest.approx(0.5, abs=0.03)  # the shift, in sd
        elif column.column == W6_REWEIGHTED:
            assert column.statistic > 0.2
        else:
            assert column.statistic is not None and column.statistic < 0.03


def test_unchanged_w6_data_flags_nothing(w6_reference: Reference) -> None:
    report = drift_report(w6_reference, w6_table(100_000, seed=3))
    assert report.drifted == () and report.drift_share == 0.0


def _upper(rate: float, trials: int) -> int:
    """The count a binomial(trials, rate) exceeds with probability 0.001: the sampling error."""
    return int(stats.binom.ppf(0.999, trials, rate))


def test_false_alarms_under_no_change_stay_at_alpha() -> None:
    """200 small windows from the reference's own distribution: each column's p-value test
    flags about alpha of them, and BH keeps the chance of any flag in a report near alpha,
    where uncorrected, 25 columns raise it to about 1 - 0.95^25 = 72%."""
    references = w6_table(REPS * SMALL, seed=11)
    currents = w6_table(REPS * SMALL, seed=12)
    per_column = np.zeros(25, dtype=int)
    any_bh = any_raw = 0
    for rep in range(REPS):
        reference = Reference.from_columns(references.slice(rep * SMALL, SMALL))
        report = drift_report(reference, currents.slice(rep * SMALL, SMALL))
        assert {c.test for c in report.columns} == {"ks", "chisquare"}
        raw = np.array([c.p_value for c in report.columns])
        per_column += raw < ALPHA
        any_raw += bool((raw < ALPHA).any())
        any_bh += bool(report.drifted)
    assert per_column.max() <= _upper(ALPHA, REPS)
    assert any_bh <= _upper(ALPHA, REPS)
    assert any_raw > REPS / 2  # what the correction is for


def test_a_shift_in_small_samples_is_found_by_ks() -> None:
    rng = np.random.default_rng(4)
    reference = Reference.from_columns({"x": rng.normal(size=400), "y": rng.normal(size=400)})
    report = drift_report(reference, {"x": rng.normal(1.0, size=400), "y": rng.normal(size=400)})
    x = report.column("x")
    assert (x.test, x.status) == ("ks", "drift")
    assert x.adjusted_p is not None and x.p_value is not None and x.adjusted_p < ALPHA
    assert report.drifted == ("x",)


def test_too_few_values_are_insufficient_never_drift() -> None:
    reference = Reference.from_columns(
        {"x": np.arange(100.0), "few": np.arange(100.0), "empty": [None] * 100, "c": ["a"] * 100}
    )
    current = {
        "x": np.arange(100.0) + 1000,
        "few": np.arange(10.0) + 1000,  # 10 values: under min_rows
        "empty": [None] * 100,  # a column entirely null
        "c": ["b"] * 29,
    }
    report = drift_report(reference, current)
    statuses = {c.column: c.status for c in report.columns}
    assert statuses == {
        "x": "drift",
        "few": "insufficient",
        "empty": "insufficient",
        "c": "insufficient",
    }
    empty = report.column("empty")
    assert (empty.n_reference, empty.null_reference, empty.null_current) == (0, 100, 100)
    assert empty.statistic is None and empty.p_value is None
    assert report.drift_share == 1.0  # one tested column, drifted; insufficient ones excluded
    assert report.dataset_drift is True
    assert drift_report(reference, current, DriftConfig(min_rows=5)).column("few").status == "drift"


def test_no_tested_column_means_no_dataset_drift() -> None:
    reference = Reference.from_columns({"x": np.arange(10.0)})
    report = drift_report(reference, {"x": np.arange(10.0)})
    assert (report.drift_share, report.dataset_drift, report.drifted) == (0.0, False, ())


@pytest.mark.parametrize("correction", ["bh", "holm", "bonferroni", "none"])
def test_the_report_states_its_correction_and_both_p_values(correction: str) -> None:
    rng = np.random.default_rng(5)
    shifts = {"a": 0.0, "b": 0.15, "c": 0.3, "d": 0.6}
    reference = Reference.from_columns({name: rng.normal(size=500) for name in shifts})
    current = {name: rng.normal(shift, size=500) for name, shift in shifts.items()}
    report = drift_report(reference, current, DriftConfig(correction=correction))
    assert report.correction == correction
    raw = np.array([c.p_value for c in report.columns])
    adjusted = [c.adjusted_p for c in report.columns]
    assert adjusted == pytest.approx(adjust(raw, correction).tolist())
    if correction != "none":
        assert all(a >= p for a, p in zip(adjusted, raw, strict=True))  # type: ignore[operator]
    for column in report.columns:
        assert column.status == ("drift" if column.adjusted_p < ALPHA else "ok")  # type: ignore[operator]


def test_distances_stay_out_of_the_correction() -> None:
    rng = np.random.default_rng(6)
    reference = Reference.from_columns({"x": rng.normal(size=500), "y": rng.normal(size=500)})
    config = DriftConfig(columns={"y": ColumnTest("wasserstein", 0.2)})
    report = drift_report(reference, {"x": rng.normal(size=500), "y": rng.normal(size=500)}, config)
    x, y = report.column("x"), report.column("y")
    assert x.p_value is not None and x.adjusted_p == pytest.approx(x.p_value)  # one p-value test
    assert (y.test, y.threshold, y.p_value, y.adjusted_p) == ("wasserstein", 0.2, None, None)


def test_thresholds_and_tests_by_default_and_per_column() -> None:
    rng = np.random.default_rng(7)
    columns = {"x": rng.normal(size=2000), "c": rng.choice(["a", "b", "c"], 2000)}
    reference = Reference.from_columns(columns)
    current = {"x": rng.normal(0.15, size=2000), "c": rng.choice(["a", "b", "c"], 2000)}
    default = drift_report(reference, current)
    assert [(c.test, c.threshold) for c in default.columns] == [
        ("wasserstein", 0.1),
        ("jensenshannon", 0.1),
    ]
    assert default.drifted == ("x",)
    looser = DriftConfig(thresholds={"wasserstein": 0.3}, categorical_test="psi")
    report = drift_report(reference, current, looser)
    assert [(c.test, c.threshold) for c in report.columns] == [("wasserstein", 0.3), ("psi", 0.2)]
    assert report.drifted == ()
    by_column = DriftConfig(columns={"x": ColumnTest("ks", 0.01), "c": ColumnTest("chisquare")})
    report = drift_report(reference, current, by_column)
    assert [(c.test, c.threshold) for c in report.columns] == [("ks", 0.01), ("chisquare", 0.05)]
    large = drift_report(reference, current, DriftConfig(large_sample=5000))
    assert [c.test for c in large.columns] == ["ks", "chisquare"]


def test_prediction_drift_is_a_one_column_report() -> None:
    rng = np.random.default_rng(8)
    training = {"f0": rng.normal(size=5000), "prediction": rng.choice([0, 1], 5000, p=[0.8, 0.2])}
    reference = Reference.from_columns(training, kinds={"prediction": "categorical"})
    window = {"prediction": rng.choice([0, 1], 5000, p=[0.5, 0.5])}
    report = drift_report(reference, window)
    assert [c.column for c in report.columns] == ["prediction"]
    assert report.drifted == ("prediction",) and report.dataset_drift is True
    assert report.column("prediction").histogram.categories == (0, 1)


def test_to_dict_is_json_and_from_dict_gives_the_report_back(w6_reference: Reference) -> None:
    report = drift_report(w6_reference, w6_table(2000, seed=9, current=True))
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert DriftReport.from_dict(json.loads(text)) == report
    small = drift_report(
        Reference.from_columns({"x": np.arange(50.0), "c": ["a", "b"] * 25}),
        {"x": np.arange(50.0) + 0.5, "c": ["a", "b", None, "z"] * 10},
    )
    stored = json.loads(json.dumps(small.to_dict(), allow_nan=False))
    assert DriftReport.from_dict(stored) == small
    assert stored["columns"][1]["null_current"] == 10


def test_a_non_finite_statistic_is_stored_as_null() -> None:
    column = ColumnDrift.from_dict(
        {
            "column": "x",
            "kind": "numeric",
            "test": "wasserstein",
            "statistic": math.inf,
            "p_value": None,
            "adjusted_p": None,
            "threshold": 0.1,
            "status": "drift",
            "n_reference": 40,
            "n_current": 40,
            "null_reference": 0,
            "null_current": 0,
            "histogram": {"reference": [], "current": []},
        }
    )
    assert column.to_dict()["statistic"] is None
    with pytest.raises(InvalidInput, match="not a stored drift report"):
        DriftReport.from_dict({"columns": []})


def test_report_column_lookup() -> None:
    report = drift_report(Reference.from_columns({"x": np.arange(40.0)}), {"x": np.arange(40.0)})
    assert report.column("x").column == "x"
    with pytest.raises(NotFound, match="'nope'"):
        report.column("nope")


def test_current_columns_the_reference_lacks_are_named() -> None:
    reference = Reference.from_columns({"x": np.arange(40.0)})
    with pytest.raises(InvalidInput, match="reference lacks: 'y', 'z'"):
        drift_report(reference, {"x": np.arange(40.0), "y": np.arange(40.0), "z": [1] * 40})
    table = pa.table({"w": np.arange(40.0)})
    with pytest.raises(InvalidInput, match="'w'"):
        drift_report(reference, table)


def test_config_columns_and_tests_are_checked_against_the_reference() -> None:
    reference = Reference.from_columns({"x": np.arange(40.0), "c": ["a"] * 40})
    with pytest.raises(InvalidInput, match="config names columns the reference lacks: 'nope'"):
        drift_report(reference, {"x": np.arange(40.0)}, DriftConfig(columns={"nope": ColumnTest()}))
    wrong = DriftConfig(columns={"c": ColumnTest("ks")})
    with pytest.raises(InvalidInput, match="column 'c' is categorical: test 'ks' does not apply"):
        drift_report(reference, {"x": np.arange(40.0)}, wrong)
    wrong = DriftConfig(columns={"x": ColumnTest("psi")})
    with pytest.raises(InvalidInput, match="column 'x' is numeric: test 'psi'"):
        drift_report(reference, {"x": np.arange(40.0)}, wrong)
