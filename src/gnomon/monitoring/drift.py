"""Data drift: each column of a current window compared with a prepared reference.

Numeric columns are tested with Kolmogorov-Smirnov or the Wasserstein distance, categorical
ones with chi-square, Jensen-Shannon or PSI (``drift_config`` says which and when). The
p-values of one report are adjusted together, so twenty-five columns do not raise twenty-five
chances of a false alarm. A column with too few values on either side is ``"insufficient"``,
never drift. Prediction drift is the same report on the output column.

Example:
    >>> reference = Reference.from_columns(training_table)  # doctest: +SKIP
    >>> report = drift_report(reference, window_table, DriftConfig())  # doctest: +SKIP
    >>> report.drifted  # doctest: +SKIP
    ('income', 'plan')
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np

from gnomon.errors import InvalidInput, NotFound
from gnomon.monitoring.drift_config import ColumnKind, ColumnTest, DriftConfig
from gnomon.monitoring.drift_reference import (
    CategoricalReference,
    CategoricalSample,
    Columns,
    NumericReference,
    NumericSample,
    PreparedColumn,
    Reference,
    categorical_sample,
    column_items,
    numeric_sample,
)
from gnomon.monitoring.drift_tests import (
    adjust,
    chisquare,
    jensenshannon,
    ks,
    normalised_wasserstein,
    psi,
)
from gnomon.monitoring.histograms import Histogram, categorical_histogram, numeric_histogram

__all__ = [
    "ColumnDrift",
    "ColumnTest",
    "DriftConfig",
    "DriftReport",
    "Histogram",
    "Reference",
    "drift_report",
]

Status = Literal["drift", "ok", "insufficient"]
_PARALLEL_VALUES = 1_000_000  # a report of more values than this tests its columns in threads


def _number(value: float | None) -> float | None:
    """JSON has no NaN or infinity: they are stored as null."""
    return value if value is not None and math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    """One column's verdict. ``statistic`` is the test's (a distance for ``wasserstein``,
    ``jensenshannon`` and ``psi``, which have no p-value); ``adjusted_p`` is the p-value after
    the report's correction, the one compared with ``threshold``. Sizes count the values
    tested; ``null_*`` the nulls (and a numeric column's NaN and infinities) left out."""

    column: str
    kind: ColumnKind
    test: str
    statistic: float | None
    p_value: float | None
    adjusted_p: float | None
    threshold: float
    status: Status
    n_reference: int
    n_current: int
    null_reference: int
    null_current: int
    histogram: Histogram

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "test": self.test,
            "statistic": _number(self.statistic),
            "p_value": _number(self.p_value),
            "adjusted_p": _number(self.adjusted_p),
            "threshold": self.threshold,
            "status": self.status,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "null_reference": self.null_reference,
            "null_current": self.null_current,
            "histogram": self.histogram.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnDrift:
        return cls(**{**data, "histogram": Histogram.from_dict(data["histogram"])})


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Every compared column's verdict, in the current's column order. ``drift_share`` is the
    share of tested columns that drift (insufficient ones are not tested); the dataset drifts
    when it reaches the config's ``drift_share``."""

    columns: tuple[ColumnDrift, ...]
    correction: str
    drift_share: float
    dataset_drift: bool
    drifted: tuple[str, ...]

    def column(self, name: str) -> ColumnDrift:
        """The verdict on column ``name``.

        Raises:
            NotFound: the report did not compare it.
        """
        for column in self.columns:
            if column.column == name:
                return column
        raise NotFound(f"the drift report has no column {name!r}", {"column": name})

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [column.to_dict() for column in self.columns],
            "correction": self.correction,
            "drift_share": self.drift_share,
            "dataset_drift": self.dataset_drift,
            "drifted": list(self.drifted),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReport:
        """The report ``to_dict`` gave (read back from JSON).

        Raises:
            InvalidInput: a key is missing or unknown.
        """
        try:
            return cls(
                columns=tuple(ColumnDrift.from_dict(column) for column in data["columns"]),
                correction=data["correction"],
                drift_share=data["drift_share"],
                dataset_drift=data["dataset_drift"],
                drifted=tuple(data["drifted"]),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"not a stored drift report: {exc!r}") from None


@dataclass(frozen=True, slots=True)
class _Measured:
    """A column's test before the report's correction."""

    column: str
    kind: ColumnKind
    test: str
    threshold: float
    statistic: float | None  # None: insufficient
    p_value: float | None
    sizes: tuple[int, int, int, int]  # n_reference, n_current, null_reference, null_current
    histogram: Histogram


def drift_report(
    reference: Reference, current: Columns, config: DriftConfig | None = None
) -> DriftReport:
    """Compare each column of ``current`` (name to array-like, or a pyarrow Table) with
    ``reference``, nulls dropped; p-values adjusted by ``config.correction``.

    Raises:
        InvalidInput: a current column the reference lacks, a config column the reference
            lacks or a test that does not apply to its kind, or values that do not fit their
            column's kind.

    Example:
        >>> reference = Reference.from_columns({"x": np.arange(100.0)})
        >>> drift_report(reference, {"x": np.arange(100.0) + 50}).drifted
        ('x',)
    """
    config = config or DriftConfig()
    items = column_items(current)
    _check_columns(reference, [name for name, _ in items], config)

    def measure(item: tuple[str, Any]) -> _Measured:
        name, values = item
        return _measure(name, reference.column(name), values, config)

    if sum(_length(values) for _, values in items) < _PARALLEL_VALUES:
        return _verdicts([measure(item) for item in items], config)
    # Columns in threads: sorting a column (most of a test's time) releases the GIL.
    with ThreadPoolExecutor(max_workers=min(len(items), os.cpu_count() or 1)) as pool:
        return _verdicts(list(pool.map(measure, items)), config)


def _length(values: Any) -> int:
    try:
        return len(values)
    except TypeError:
        return 0


def _check_columns(reference: Reference, names: list[str], config: DriftConfig) -> None:
    missing = [name for name in names if name not in reference]
    if missing:
        raise InvalidInput(
            f"the current has columns the reference lacks: {', '.join(map(repr, missing))}",
            {"columns": missing},
        )
    unknown = [name for name in config.columns if name not in reference]
    if unknown:
        raise InvalidInput(
            f"the config names columns the reference lacks: {', '.join(map(repr, unknown))}",
            {"columns": unknown},
        )
    for name in config.columns:
        config.column_test(name, reference.column(name).kind)


def _measure(name: str, prepared: PreparedColumn, values: Any, config: DriftConfig) -> _Measured:
    current: NumericSample | CategoricalSample
    if isinstance(prepared, NumericReference):
        current = numeric_sample(name, values)
        compare = partial(_numeric, prepared, current)
    else:
        current = categorical_sample(name, values)
        compare = partial(_categorical, prepared, current)
    base = prepared.sample
    test, threshold = config.choice(name, prepared.kind, base.size, current.size)
    statistic, p_value, histogram = compare(test, min(base.size, current.size) >= config.min_rows)
    sizes = (base.size, current.size, base.nulls, current.nulls)
    return _Measured(name, prepared.kind, test, threshold, statistic, p_value, sizes, histogram)


Outcome = tuple[float | None, float | None, Histogram]


def _numeric(
    prepared: NumericReference, current: NumericSample, test: str, sufficient: bool
) -> Outcome:
    base = prepared.sample.values
    histogram = numeric_histogram(prepared.inner_edges, prepared.bin_counts, base, current.values)
    if not sufficient:
        return None, None, histogram
    if test == "ks":
        return (*ks(base, current.values), histogram)
    return normalised_wasserstein(base, current.values, prepared.std), None, histogram


def _categorical(
    prepared: CategoricalReference, current: CategoricalSample, test: str, sufficient: bool
) -> Outcome:
    base, now, unseen = prepared.align(current)
    histogram = categorical_histogram(base, now, partial(prepared.labels, unseen))
    if not sufficient:
        return None, None, histogram
    if test == "chisquare":
        return (*chisquare(base, now), histogram)
    distance = jensenshannon if test == "jensenshannon" else psi
    return distance(base, now), None, histogram


def _verdicts(measured: list[_Measured], config: DriftConfig) -> DriftReport:
    tested = [m for m in measured if m.statistic is not None]
    with_p = [
        i for i, m in enumerate(measured) if m.statistic is not None and m.p_value is not None
    ]
    raw = np.array([measured[i].p_value for i in with_p], dtype=float)
    adjusted = dict(zip(with_p, adjust(raw, config.correction).tolist(), strict=True))
    columns = tuple(_column(m, adjusted.get(i)) for i, m in enumerate(measured))
    drifted = tuple(c.column for c in columns if c.status == "drift")
    share = len(drifted) / len(tested) if tested else 0.0
    return DriftReport(
        columns=columns,
        correction=config.correction,
        drift_share=share,
        dataset_drift=bool(tested) and share >= config.drift_share,
        drifted=drifted,
    )


def _column(measured: _Measured, adjusted_p: float | None) -> ColumnDrift:
    status: Status = "insufficient"
    if measured.statistic is not None:
        if adjusted_p is not None:
            drift = adjusted_p < measured.threshold
        else:
            drift = measured.statistic >= measured.threshold
        status = "drift" if drift else "ok"
    n_reference, n_current, null_reference, null_current = measured.sizes
    return ColumnDrift(
        column=measured.column,
        kind=measured.kind,
        test=measured.test,
        statistic=measured.statistic,
        p_value=measured.p_value,
        adjusted_p=adjusted_p,
        threshold=measured.threshold,
        status=status,
        n_reference=n_reference,
        n_current=n_current,
        null_reference=null_reference,
        null_current=null_current,
        histogram=measured.histogram,
    )
