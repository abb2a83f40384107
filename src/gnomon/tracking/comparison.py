"""Runs side by side: which params and metrics differ, and which run has the best value.

Pure functions over ``Run`` values, shared by ``gnomon runs compare``, ``gnomon models
compare`` and ``Client.compare_runs``; pandas is imported only by ``to_pandas``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gnomon.errors import InvalidInput
from gnomon.tracking.entities import Run

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class CompareRow:
    """One param or metric across runs; ``best`` holds the run ids with the best value."""

    section: str
    key: str
    values: dict[str, str | float | None]
    differs: bool
    best: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunComparison:
    """Params and metrics of ``runs`` side by side, one ``CompareRow`` per key.

    In a notebook it shows as a table with the differing rows highlighted and the best value
    of each metric starred.
    """

    runs: list[Run]
    rows: list[CompareRow]

    @classmethod
    def of(cls, runs: Sequence[Run]) -> RunComparison:
        return cls(list(runs), compare_rows(runs))

    @property
    def differing(self) -> list[CompareRow]:
        """The rows whose values are not the same in every run."""
        return [row for row in self.rows if row.differs]

    def to_pandas(self) -> pd.DataFrame:
        """One row per param and metric (index: ``section``, ``key``), one column per run
        (its id); a run lacking a key holds a missing value there."""
        import pandas as pd

        index = pd.MultiIndex.from_tuples(
            [(row.section, row.key) for row in self.rows], names=["section", "key"]
        )
        columns = [run.id for run in self.runs]
        data = [[row.values[run_id] for run_id in columns] for row in self.rows]
        return pd.DataFrame(data, index=index, columns=columns, dtype=object)

    def _repr_html_(self) -> str:
        from gnomon.tracking.html import comparison_html

        return comparison_html(self)


def distinct_run_ids(run_ids: Iterable[str]) -> list[str]:
    """``run_ids`` without repeats, in order; a comparison needs two or more.

    Raises:
        InvalidInput: fewer than two different ids, or a single string instead of a list.
    """
    if isinstance(run_ids, str):
        raise InvalidInput(f"pass a list of run ids to compare, not the string {run_ids!r}")
    ids = list(dict.fromkeys(run_ids))  # the same run twice adds nothing to compare
    if len(ids) < 2:
        raise InvalidInput(f"comparing runs needs at least two different run ids, got {ids}")
    return ids


def compare_rows(runs: Sequence[Run]) -> list[CompareRow]:
    """Every param and metric key of ``runs``, with each run's value (``None`` when unset)."""
    rows = []
    for key in sorted({k for run in runs for k in run.params}):
        values: dict[str, str | float | None] = {r.id: r.params.get(key) for r in runs}
        rows.append(CompareRow("params", key, values, values_differ(values.values())))
    for key in sorted({k for run in runs for k in run.metrics}):
        metrics = {r.id: r.metrics.get(key) for r in runs}
        differs = values_differ(metrics.values())
        best = best_runs(key, metrics) if differs else []
        rows.append(CompareRow("metrics", key, dict(metrics), differs, best))
    return rows


def values_differ(values: Iterable[object]) -> bool:
    # repr() makes NaN equal to NaN, so two runs that both logged NaN do not "differ".
    return len({repr(v) for v in values}) > 1


# Words of a metric name that make smaller values better; any other metric is taken as
# higher-is-better. The one rule for comparisons, ``models best`` and evaluation verdicts.
_LOWER_IS_BETTER = frozenset(
    {
        *("loss", "logloss", "nll", "perplexity", "error", "err"),
        *("mse", "mae", "rmse", "msle", "rmsle", "mape"),
        *("latency", "time", "duration"),
    }
)


def lower_is_better(metric: str) -> bool:
    """Whether smaller values of ``metric`` are better, guessed from the words of its name
    (``val_loss``, ``error_rate``, ``rmse``, ``p95_latency``); every other metric is taken
    as higher-is-better.

    Example:
        >>> lower_is_better("val_loss"), lower_is_better("f1")
        (True, False)
    """
    return bool(_LOWER_IS_BETTER & set(re.split(r"[^a-z0-9]+", metric.lower())))


def best_runs(key: str, values: dict[str, float | None]) -> list[str]:
    """The run ids holding the best value of metric ``key`` (NaN and unset never win)."""
    usable = {run_id: v for run_id, v in values.items() if v is not None and not math.isnan(v)}
    if not usable:
        return []
    lower = lower_is_better(key)
    best = min(usable.values()) if lower else max(usable.values())
    return [run_id for run_id, v in usable.items() if v == best]
