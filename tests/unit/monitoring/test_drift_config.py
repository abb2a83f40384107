"""Drift configs: the choice of test by kind and sample size, thresholds by default and per
column, the errors naming each bad value, and the stored form."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gnomon.errors import InvalidInput
from gnomon.monitoring.drift_config import ColumnTest, DriftConfig


@pytest.mark.parametrize(
    ("kind", "sizes", "expected"),
    [
        ("numeric", (1000, 1000), ("ks", 0.05)),
        ("numeric", (1001, 500), ("ks", 0.05)),  # a small window of a large reference
        ("numeric", (500, 1001), ("ks", 0.05)),
        ("numeric", (1001, 1001), ("wasserstein", 0.1)),
        ("categorical", (40, 1000), ("chisquare", 0.05)),
        ("categorical", (100_000, 100_000), ("jensenshannon", 0.1)),
    ],
)
def test_auto_picks_p_values_for_small_samples_and_distances_beyond(
    kind: str, sizes: tuple[int, int], expected: tuple[str, float]
) -> None:
    assert DriftConfig().choice("x", kind, *sizes) == expected


def test_defaults_and_per_column_choices() -> None:
    config = DriftConfig(
        numeric_test="ks",
        categorical_test="psi",
        alpha=0.01,
        thresholds={"psi": 0.3},
        columns={"a": ColumnTest("wasserstein", 0.2), "b": ColumnTest("chisquare")},
        large_sample=10,
    )
    assert config.choice("x", "numeric", 10**6, 10**6) == ("ks", 0.01)
    assert config.choice("c", "categorical", 5, 5) == ("psi", 0.3)
    assert config.choice("a", "numeric", 5, 5) == ("wasserstein", 0.2)
    assert config.choice("b", "categorical", 10**6, 10**6) == ("chisquare", 0.01)
    assert DriftConfig(thresholds={"wasserstein": 0.25}).choice("x", "numeric", 5000, 5000) == (
        "wasserstein",
        0.25,
    )
    assert DriftConfig().choice("c", "categorical", 5000, 5000) == ("jensenshannon", 0.1)
    assert DriftConfig(categorical_test="psi").choice("c", "categorical", 9, 9) == ("psi", 0.2)


def test_a_test_of_the_wrong_kind_is_named() -> None:
    config = DriftConfig(columns={"a": ColumnTest("chisquare")})
    with pytest.raises(InvalidInput, match="column 'a' is numeric: test 'chisquare' does not"):
        config.choice("a", "numeric", 50, 50)


BAD: list[tuple[dict[str, Any], str]] = [
    ({"numeric_test": "t-test"}, "numeric_test: unknown test 't-test'"),
    ({"numeric_test": "psi"}, "numeric_test: unknown test 'psi'"),
    ({"categorical_test": "ks"}, "categorical_test: unknown test 'ks'"),
    ({"alpha": 0.0}, "alpha 0.0 must lie in"),
    ({"alpha": 1.5}, "alpha 1.5 must lie in"),
    ({"alpha": "0.05"}, "alpha '0.05' must lie in"),
    ({"thresholds": {"ks": 0.1}}, "'ks' is not a distance test"),
    (
        {"thresholds": {"jensenshannon": 1.5}},
        r"threshold 1.5 for 'jensenshannon' must lie in \(0, 1\]",
    ),
    ({"thresholds": {"wasserstein": -0.1}}, "threshold -0.1 for 'wasserstein'"),
    ({"thresholds": {"psi": float("nan")}}, "threshold nan is not a number"),
    ({"correction": "fdr"}, "unknown correction 'fdr'"),
    ({"large_sample": 0}, "large_sample 0 must be a positive integer"),
    ({"min_rows": 2.5}, "min_rows 2.5 must be a positive integer"),
    ({"drift_share": 0}, r"drift_share 0 must lie in \(0, 1\]"),
    ({"drift_share": 1.2}, "drift_share 1.2"),
    ({"columns": {"a": "ks"}}, "the choice for 'a' is not a ColumnTest"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD)
def test_bad_values_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        DriftConfig(**kwargs)


@pytest.mark.parametrize(
    ("test", "threshold", "message"),
    [
        ("anova", None, "column test: unknown test 'anova'"),
        ("ks", 0.0, r"alpha 0.0 for 'ks' must lie in \(0, 1\)"),
        ("chisquare", 1.0, "alpha 1.0 for 'chisquare'"),
        ("psi", 0.0, "threshold 0.0 for 'psi'"),
        ("auto", 0.1, "a column threshold \\(0.1\\) needs a named test"),
    ],
)
def test_bad_column_tests_are_named(test: str, threshold: float | None, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ColumnTest(test, threshold)


def test_to_dict_and_back() -> None:
    config = DriftConfig(
        categorical_test="psi",
        thresholds={"wasserstein": 0.2},
        columns={"a": ColumnTest("ks", 0.01), "b": ColumnTest()},
        correction="holm",
        min_rows=50,
    )
    stored = json.loads(json.dumps(config.to_dict()))
    assert DriftConfig.from_dict(stored) == config
    assert DriftConfig.from_dict({}) == DriftConfig()
    with pytest.raises(InvalidInput, match=r"unknown keys \['treshold'\]"):
        DriftConfig.from_dict({"treshold": 0.1})
    with pytest.raises(InvalidInput, match="bad column test"):
        DriftConfig.from_dict({"columns": {"a": {"tst": "ks"}}})
