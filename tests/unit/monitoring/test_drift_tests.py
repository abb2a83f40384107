"""Each drift test's numbers against SciPy's on the same data (small and large samples, ties,
unequal sizes), and the corrections against SciPy and worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon as scipy_js

from gnomon.monitoring.drift_tests import (
    EXACT_KS_LIMIT,
    PSI_EPSILON,
    adjust,
    chisquare,
    jensenshannon,
    ks,
    ks_statistic,
    normalised_wasserstein,
    psi,
    wasserstein,
)

SIZES = [(5, 7), (300, 300), (300, 451), (1000, 999), (20_000, 13_001), (50_000, 50_000)]


def _samples(n1: int, n2: int, ties: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    first, second = rng.normal(size=n1), rng.normal(0.05, 1.1, size=n2)
    if ties:  # few distinct values: many equal values within and across the samples
        first, second = first.round(1), second.round(1)
    return np.sort(first), np.sort(second)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize(("n1", "n2"), SIZES)
def test_ks_equals_scipy(n1: int, n2: int, ties: bool) -> None:
    first, second = _samples(n1, n2, ties)
    expected = stats.ks_2samp(first, second)
    statistic, p_value = ks(first, second)
    assert statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert ks_statistic(first, second) == pytest.approx(expected.statistic, rel=1e-12)


def test_ks_beyond_the_exact_limit_uses_the_asymptotic_p_value() -> None:
    first, second = _samples(EXACT_KS_LIMIT + 1, 4000, ties=False, seed=1)
    expected = stats.ks_2samp(first, second, method="asymp")
    assert ks(first, second) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-9)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize(("n1", "n2"), SIZES)
def test_wasserstein_equals_scipy(n1: int, n2: int, ties: bool) -> None:
    first, second = _samples(n1, n2, ties, seed=2)
    expected = stats.wasserstein_distance(first, second)
    assert wasserstein(first, second) == pytest.approx(expected, rel=1e-9)
    assert wasserstein(second, first) == pytest.approx(expected, rel=1e-9)


def test_wasserstein_is_normalised_by_the_reference_std_with_a_floor() -> None:
    first, second = _samples(400, 300, ties=False, seed=3)
    raw = stats.wasserstein_distance(first, second)
    assert normalised_wasserstein(first, second, 2.0) == pytest.approx(raw / 2.0)
    constant = np.full(50, 3.0)
    assert normalised_wasserstein(constant, constant + 0.01, 0.0) == pytest.approx(0.01 / 0.001)


def test_wasserstein_of_a_shift_is_the_shift() -> None:
    values = np.sort(np.random.default_rng(4).normal(size=1000))
    assert wasserstein(values, values + 0.5) == pytest.approx(0.5)
    assert wasserstein(values, values) == 0.0


COUNTS = [
    ([50, 30, 20], [45, 35, 20]),
    ([500, 300, 200, 0], [300, 300, 300, 100]),  # a category only the current has
    ([10, 0, 5], [0, 7, 5]),
    ([1000, 1], [990, 11]),
]


@pytest.mark.parametrize(("reference", "current"), COUNTS)
def test_chisquare_equals_scipy_contingency(reference: list[int], current: list[int]) -> None:
    table = np.array([reference, current])
    expected = stats.chi2_contingency(table[:, table.sum(axis=0) > 0], correction=False)
    statistic, p_value = chisquare(np.array(reference), np.array(current))
    assert (statistic, p_value) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-12)


def test_chisquare_of_one_category_finds_nothing() -> None:
    assert chisquare(np.array([40, 0]), np.array([35, 0])) == (0.0, 1.0)


@pytest.mark.parametrize(("reference", "current"), COUNTS)
def test_jensenshannon_equals_scipy(reference: list[int], current: list[int]) -> None:
    p, q = np.array(reference), np.array(current)
    assert jensenshannon(p, q) == pytest.approx(scipy_js(p, q, base=2), rel=1e-12)


def test_jensenshannon_bounds() -> None:
    assert jensenshannon(np.array([5, 5]), np.array([50, 50])) == 0.0
    assert jensenshannon(np.array([5, 0]), np.array([0, 5])) == pytest.approx(1.0)


def test_psi_by_hand_with_epsilon_for_empty_categories() -> None:
    reference, current = np.array([50, 30, 20, 0]), np.array([40, 30, 20, 10])
    p = np.array([0.5, 0.3, 0.2, PSI_EPSILON])
    q = np.array([0.4, 0.3, 0.2, 0.1])
    assert psi(reference, current) == pytest.approx(float(np.sum((q - p) * np.log(q / p))))
    assert math.isfinite(psi(np.array([10, 0]), np.array([0, 10])))
    assert psi(reference, reference * 3) == 0.0


P_VALUES = np.array([0.01, 0.04, 0.03, 0.005, 0.2])


def test_bh_equals_scipy_false_discovery_control() -> None:
    expected = stats.false_discovery_control(P_VALUES, method="bh")
    assert adjust(P_VALUES, "bh") == pytest.approx(expected)


def test_holm_and_bonferroni_worked_examples() -> None:
    # Holm: sorted 0.005, 0.01, 0.03, 0.04, 0.2 times 5, 4, 3, 2, 1, then running maximum
    assert adjust(P_VALUES, "holm") == pytest.approx([0.04, 0.09, 0.09, 0.025, 0.2])
    assert adjust(P_VALUES, "bonferroni") == pytest.approx([0.05, 0.2, 0.15, 0.025, 1.0])
    assert adjust(P_VALUES, "none") == pytest.approx(P_VALUES)
    assert adjust(np.array([0.6, 0.7]), "holm") == pytest.approx([1.0, 1.0])
    assert adjust(np.empty(0), "bh").size == 0
