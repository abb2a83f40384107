"""The drift tests on prepared samples, and the multiple-testing corrections.

Numeric tests take both samples sorted (the reference sorts once for every window), so each
costs a few linear passes. SciPy gives the p-value distributions, imported only when a p-value
test runs: ``scipy.stats`` takes over a second to import, longer than a 100,000-row report. The
distances are short formulas written here on the sorted data (SciPy's ``wasserstein_distance``
and ``jensenshannon`` would sort again, and import ``scipy.stats`` or ``scipy.spatial``); the
tests check both against SciPy.
"""

from __future__ import annotations

import math

import numpy as np

EXACT_KS_LIMIT = 10_000  # scipy's ks_2samp is exact up to this many values a side
PSI_EPSILON = 1e-4  # stands in for an empty category's share, so its log stays finite
MIN_STD = 0.001  # the Wasserstein normaliser's floor, for a constant reference (as Evidently)


def ks(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and two-sided p-value of sorted samples, as
    ``scipy.stats.ks_2samp`` gives them (exact while both sides are small, else Smirnov's
    distribution at the effective size)."""
    from scipy import stats

    if max(reference.size, current.size) <= EXACT_KS_LIMIT:
        result = stats.ks_2samp(reference, current)
        return float(result.statistic), float(result.pvalue)
    statistic = ks_statistic(reference, current)
    many, few = sorted((float(reference.size), float(current.size)), reverse=True)
    p_value = stats.kstwo.sf(statistic, np.round(many * few / (many + few)))
    return statistic, float(np.clip(p_value, 0.0, 1.0))


def ks_statistic(first: np.ndarray, second: np.ndarray) -> float:
    """The largest gap between the two empirical CDFs of sorted samples."""
    return max(_largest_gap(first, second), _largest_gap(second, first))


def _largest_gap(own: np.ndarray, other: np.ndarray) -> float:
    """The largest CDF gap at ``own``'s values: each distinct value at the last of its ties,
    where its own CDF is exact."""
    last = np.empty(own.size, dtype=bool)
    last[-1] = True
    np.not_equal(own[1:], own[:-1], out=last[:-1])
    own_cdf = (np.flatnonzero(last) + 1) / own.size
    other_cdf = np.searchsorted(other, own[last], side="right") / other.size
    return float(np.max(np.abs(own_cdf - other_cdf)))


def wasserstein(reference: np.ndarray, current: np.ndarray) -> float:
    """First Wasserstein distance of sorted samples: the area between their quantile
    functions, over the merged steps of both (levels j/n1 and k/n2, in units of 1/(n1 n2))."""
    n1, n2 = reference.size, current.size
    if n1 == n2:  # the steps coincide: the mean gap between order statistics
        return float(np.mean(np.abs(reference - current)))
    j, k = np.arange(1, n1 + 1), np.arange(1, n2 + 1)
    levels = np.empty(n1 + n2, dtype=np.int64)
    # each level's place in the merged order, known without sorting: those of the other
    # sample that come first (equal levels bound empty steps, so ties may go either way)
    levels[j - 1 + j * n2 // n1] = j * n2
    levels[k - 1 + (k * n1 + n2 - 1) // n2 - 1] = k * n1
    widths = np.diff(levels, prepend=0)
    # the quantile function's index on the step ending at each level: ceil(level / n) - 1
    at_reference = reference[(levels + n2 - 1) // n2 - 1]
    at_current = current[(levels + n1 - 1) // n1 - 1]
    return float(np.dot(np.abs(at_reference - at_current), widths) / (n1 * n2))


def normalised_wasserstein(reference: np.ndarray, current: np.ndarray, std: float) -> float:
    """The distance in units of the reference's standard deviation (at least ``MIN_STD``)."""
    return wasserstein(reference, current) / max(std, MIN_STD)


def chisquare(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Pearson's chi-square test of homogeneity of two count vectors (no continuity
    correction), ``scipy.stats.chi2_contingency``'s: both sides are samples, and a category
    only the current has counts rather than making the statistic infinite."""
    from scipy import stats

    table = np.vstack((reference, current))
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:  # one category: nothing can differ
        return 0.0, 1.0
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def jensenshannon(reference: np.ndarray, current: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) of two count vectors, as
    ``scipy.spatial.distance.jensenshannon(p, q, base=2)``."""
    p = reference / reference.sum()
    q = current / current.sum()
    middle = (p + q) / 2.0
    divergence = _relative_entropy(p, middle) + _relative_entropy(q, middle)
    return math.sqrt(max(divergence / math.log(2.0), 0.0) / 2.0)


def _relative_entropy(p: np.ndarray, m: np.ndarray) -> float:
    present = p > 0
    return float(np.sum(p[present] * np.log(p[present] / m[present])))


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index of two count vectors, an empty category's share taken as
    ``PSI_EPSILON``."""
    p, q = reference / reference.sum(), current / current.sum()
    p, q = np.where(p > 0, p, PSI_EPSILON), np.where(q > 0, q, PSI_EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def adjust(p_values: np.ndarray, correction: str) -> np.ndarray:
    """P-values adjusted for testing them together: Benjamini-Hochberg (``"bh"``, SciPy's
    ``false_discovery_control``), Holm's step-down, Bonferroni, or unchanged (``"none"``)."""
    count = p_values.size
    if count == 0 or correction == "none":
        return p_values.copy()
    if correction == "bonferroni":
        return np.asarray(np.minimum(p_values * count, 1.0), dtype=float)
    if correction == "bh":
        from scipy import stats

        return np.asarray(stats.false_discovery_control(p_values, method="bh"), dtype=float)
    order = np.argsort(p_values, kind="stable")
    stepped = np.maximum.accumulate((count - np.arange(count)) * p_values[order])
    adjusted = np.empty(count)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted
