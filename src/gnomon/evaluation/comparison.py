"""The evaluation rows of a comparison of runs (``gnomon models compare``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from gnomon.evaluation import names
from gnomon.tracking.comparison import CompareRow, values_differ
from gnomon.tracking.entities import Run

_ORDER = [*names.CLASSIFIER_METRICS, *names.REGRESSOR_METRICS]


def evaluation_rows(rows: Sequence[CompareRow], runs: Sequence[Run]) -> list[CompareRow]:
    """``rows`` with the metrics an evaluation logged (``eval_f1``) moved to an "evaluation"
    section (as ``f1``, in the standard order), followed by the runs' verdicts and baselines.
    The baseline's metrics (``eval_baseline_f1``) are left out: they describe another model."""
    kept, evaluated = [], []
    for row in rows:
        if row.section == "metrics" and row.key.startswith(names.BASELINE_PREFIX):
            continue
        metric = names.evaluated_metric(row.key) if row.section == "metrics" else None
        if metric is None:
            kept.append(row)
        else:
            evaluated.append(replace(row, section="evaluation", key=metric))
    evaluated.sort(key=lambda row: _ORDER.index(row.key) if row.key in _ORDER else len(_ORDER))
    for key, tag in (("verdict", names.VERDICT_TAG), ("baseline", names.BASELINE_TAG)):
        values: dict[str, str | float | None] = {run.id: run.tags.get(tag) for run in runs}
        if any(value is not None for value in values.values()):
            evaluated.append(CompareRow("evaluation", key, values, values_differ(values.values())))
    return kept + evaluated
