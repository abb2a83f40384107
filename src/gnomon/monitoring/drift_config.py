"""What a drift report tests and when it calls a change drift: the tests by column kind, their
default thresholds, the multiple-testing correction and the sample-size rules.

Two families of test: p-value tests (``ks``, ``chisquare``) flag a column when its p-value,
adjusted over the report's p-value tests, is below ``alpha``; distances (``wasserstein``,
``jensenshannon``, ``psi``) flag it when the distance reaches its threshold. ``"auto"`` picks a
p-value test while either sample is small and a distance when both are large: at 100,000
rows a p-value flags differences too small to matter, and a distance from a few hundred rows
is mostly noise (a small hourly window against a large training set gets a p-value test).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gnomon.errors import InvalidInput

ColumnKind = Literal["numeric", "categorical"]
Correction = Literal["bh", "holm", "bonferroni", "none"]

KINDS: tuple[str, ...] = ("numeric", "categorical")
CORRECTIONS: tuple[str, ...] = ("bh", "holm", "bonferroni", "none")
TESTS: dict[str, tuple[str, ...]] = {
    "numeric": ("ks", "wasserstein"),
    "categorical": ("chisquare", "jensenshannon", "psi"),
}
ALL_TESTS = TESTS["numeric"] + TESTS["categorical"]
P_VALUE_TESTS = frozenset({"ks", "chisquare"})
AUTO = "auto"
# (small samples, large samples) per kind for "auto"
AUTO_TESTS: dict[str, tuple[str, str]] = {
    "numeric": ("ks", "wasserstein"),
    "categorical": ("chisquare", "jensenshannon"),
}
DISTANCE_THRESHOLDS: dict[str, float] = {"wasserstein": 0.1, "jensenshannon": 0.1, "psi": 0.2}
# the largest threshold each distance can meet (JS distance in base 2 is at most 1)
_CEILINGS = {"wasserstein": math.inf, "jensenshannon": 1.0, "psi": math.inf}


def check_threshold(test: str, value: float, where: str) -> None:
    """``value`` as ``test``'s threshold: an alpha in (0, 1) for a p-value test, a positive
    distance (at most 1 for Jensen-Shannon) otherwise.

    Raises:
        InvalidInput: out of range, or not a number.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise InvalidInput(f"{where}: threshold {value!r} is not a number", {"threshold": value})
    if test in P_VALUE_TESTS:
        if not 0.0 < value < 1.0:
            raise InvalidInput(
                f"{where}: alpha {value!r} for {test!r} must lie in (0, 1)", {"threshold": value}
            )
    elif not 0.0 < value <= _CEILINGS[test]:
        raise InvalidInput(
            f"{where}: threshold {value!r} for {test!r} must lie in (0, {_CEILINGS[test]:g}]",
            {"threshold": value},
        )


def _check_test(test: str, allowed: tuple[str, ...], where: str) -> None:
    if test != AUTO and test not in allowed:
        raise InvalidInput(
            f"{where}: unknown test {test!r}; expected one of {', '.join((AUTO, *allowed))}",
            {"test": test},
        )


@dataclass(frozen=True, slots=True)
class ColumnTest:
    """One column's own choice: a named test (or ``"auto"``) and, for a named test, its
    threshold (an alpha for ``ks`` and ``chisquare``); ``None`` keeps the report's default."""

    test: str = AUTO
    threshold: float | None = None

    def __post_init__(self) -> None:
        _check_test(self.test, ALL_TESTS, "column test")
        if self.threshold is not None:
            if self.test == AUTO:
                raise InvalidInput(
                    f"a column threshold ({self.threshold!r}) needs a named test, not 'auto'",
                    {"threshold": self.threshold},
                )
            check_threshold(self.test, self.threshold, f"column test {self.test!r}")


@dataclass(frozen=True, slots=True)
class DriftConfig:
    """How a drift report tests its columns.

    Args:
        numeric_test: ``"auto"``, ``"ks"`` or ``"wasserstein"`` for numeric columns.
        categorical_test: ``"auto"``, ``"chisquare"``, ``"jensenshannon"`` or ``"psi"``.
        alpha: significance of the p-value tests, after the correction.
        thresholds: distance thresholds by test, over the defaults (wasserstein 0.1, normalised
            by the reference's standard deviation; jensenshannon 0.1, base 2; psi 0.2).
        columns: per-column choices, by column name.
        correction: over the report's p-value tests: Benjamini-Hochberg (``"bh"``),
            ``"holm"``, ``"bonferroni"`` or ``"none"``.
        large_sample: ``"auto"`` uses a p-value test while either sample has at most this
            many values, a distance when both have more.
        min_rows: a column with fewer values on either side (nulls dropped) is
            ``"insufficient"``, never drift.
        drift_share: the dataset drifts when at least this share of the tested columns do.

    Raises:
        InvalidInput: an unknown test or correction, or a value out of range.

    Example:
        >>> DriftConfig(columns={"age": ColumnTest("psi", 0.25)}, correction="holm").alpha
        0.05
    """

    numeric_test: str = AUTO
    categorical_test: str = AUTO
    alpha: float = 0.05
    thresholds: Mapping[str, float] = field(default_factory=dict)
    columns: Mapping[str, ColumnTest] = field(default_factory=dict)
    correction: str = "bh"
    large_sample: int = 1000
    min_rows: int = 30
    drift_share: float = 0.5

    def __post_init__(self) -> None:
        _check_test(self.numeric_test, TESTS["numeric"], "numeric_test")
        _check_test(self.categorical_test, TESTS["categorical"], "categorical_test")
        alpha = self.alpha
        if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
            raise InvalidInput(f"alpha {alpha!r} must lie in (0, 1)", {"alpha": alpha})
        for test, value in self.thresholds.items():
            if test not in DISTANCE_THRESHOLDS:
                raise InvalidInput(
                    f"thresholds: {test!r} is not a distance test; expected one of "
                    f"{', '.join(DISTANCE_THRESHOLDS)} (p-value tests use alpha)",
                    {"test": test},
                )
            check_threshold(test, value, "thresholds")
        for name, choice in self.columns.items():
            if not isinstance(choice, ColumnTest):
                raise InvalidInput(
                    f"columns: the choice for {name!r} is not a ColumnTest: {choice!r}",
                    {"column": name},
                )
        if self.correction not in CORRECTIONS:
            raise InvalidInput(
                f"unknown correction {self.correction!r}; expected one of {', '.join(CORRECTIONS)}",
                {"correction": self.correction},
            )
        for name in ("large_sample", "min_rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInput(f"{name} {value!r} must be a positive integer", {name: value})
        share = self.drift_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
            raise InvalidInput(f"drift_share {share!r} must lie in (0, 1]", {"drift_share": share})

    def column_test(self, column: str, kind: str) -> ColumnTest:
        """``column``'s own choice (``"auto"`` when it has none).

        Raises:
            InvalidInput: its test does not apply to a column of ``kind``.
        """
        own = self.columns.get(column, ColumnTest())
        if own.test != AUTO and own.test not in TESTS[kind]:
            raise InvalidInput(
                f"column {column!r} is {kind}: test {own.test!r} does not apply; "
                f"expected one of {', '.join((AUTO, *TESTS[kind]))}",
                {"column": column, "test": own.test},
            )
        return own

    def choice(self, column: str, kind: str, n_reference: int, n_current: int) -> tuple[str, float]:
        """The test and threshold for ``column`` of ``kind`` with these sample sizes.

        Raises:
            InvalidInput: the column's own test does not apply to its kind.
        """
        own = self.column_test(column, kind)
        test = own.test
        if test == AUTO:
            test = self.numeric_test if kind == "numeric" else self.categorical_test
        if test == AUTO:
            # A p-value test while either side is small: a distance from a few hundred rows is
            # mostly noise, and a p-value from two large samples flags trivial differences.
            small = min(n_reference, n_current) <= self.large_sample
            test = AUTO_TESTS[kind][0 if small else 1]
        if own.threshold is not None:
            return test, own.threshold
        if test in P_VALUE_TESTS:
            return test, self.alpha
        return test, self.thresholds.get(test, DISTANCE_THRESHOLDS[test])

    def to_dict(self) -> dict[str, Any]:
        return {
            "numeric_test": self.numeric_test,
            "categorical_test": self.categorical_test,
            "alpha": self.alpha,
            "thresholds": dict(self.thresholds),
            "columns": {
                name: {"test": c.test, "threshold": c.threshold} for name, c in self.columns.items()
            },
            "correction": self.correction,
            "large_sample": self.large_sample,
            "min_rows": self.min_rows,
            "drift_share": self.drift_share,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftConfig:
        """The config ``to_dict`` gave; missing keys take their defaults.

        Raises:
            InvalidInput: an unknown key or a bad value.
        """
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(f"drift config: unknown keys {unknown}", {"keys": unknown})
        columns = data.get("columns") or {}
        try:
            choices = {name: ColumnTest(**choice) for name, choice in columns.items()}
        except TypeError as exc:
            raise InvalidInput(f"drift config: bad column test: {exc}") from None
        return cls(**{**data, "thresholds": dict(data.get("thresholds") or {}), "columns": choices})
