"""What a fitted search CV (``GridSearchCV``, ``RandomizedSearchCV``, the halving searches)
logs beyond an estimator's fit: its best candidate on the parent run, and one child run
per candidate, best ranked first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gnomon.autologging import session
from gnomon.autologging.session import SOURCE_TAG, Options
from gnomon.autologging.sklearn_values import param_text
from gnomon.tracking import fluent

# One score per fold (``split3_test_score``): a leave-one-out search would log a metric per
# row; the mean, std and rank summarise them.
_PER_SPLIT = re.compile(r"split\d+_")


def is_search(estimator: Any) -> bool:
    from sklearn.model_selection._search import BaseSearchCV

    return isinstance(estimator, BaseSearchCV)


def log_search(search: Any, options: Options) -> None:
    """``best_<param>`` params and ``best_cv_score`` on the active run, then the child runs.

    Raises:
        GnomonError: a child run could not be started or ended (the ones before it stay).
    """
    best = getattr(search, "best_params_", None) or {}
    session.log_params({f"best_{key}": param_text(value) for key, value in best.items()})
    if hasattr(search, "best_score_"):  # absent under refit=False with several metrics
        session.log_metrics({"best_cv_score": search.best_score_})
    results = search.cv_results_
    name = type(search.estimator).__name__
    for index in ranked(results, search.refit)[: options.max_tuning_runs]:
        with fluent.start_run(name=f"{name}-{index}", nested=True):
            fluent.set_tag(SOURCE_TAG, "sklearn")
            params = results["params"][index]
            session.log_params({key: param_text(value) for key, value in params.items()})
            session.log_metrics(candidate_metrics(results, index))


def ranked(results: Mapping[str, Any], refit: Any) -> list[int]:
    """Indexes into ``cv_results_``, best first: by the rank of the metric ``refit`` names
    (else the first ranked metric), ties and unranked results in their own order."""
    key = f"rank_test_{refit}" if isinstance(refit, str) else "rank_test_score"
    if key not in results:
        key = next((k for k in results if k.startswith("rank_test_")), "")
    count = len(results["params"])
    if not key:
        return list(range(count))
    ranks = results[key]
    return sorted(range(count), key=lambda i: (ranks[i], i))


def candidate_metrics(results: Mapping[str, Any], index: int) -> dict[str, Any]:
    """The numbers ``cv_results_`` holds for the candidate: mean, std and rank of each test
    (and train) score, fit and score times; not the per-split scores."""
    return {
        key: column[index]
        for key, column in results.items()
        if key != "params" and not key.startswith("param_") and not _PER_SPLIT.match(key)
    }
