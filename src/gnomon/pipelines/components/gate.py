"""The gate: ``evaluate`` judges a candidate against thresholds and the current champion on
the same holdout, and ``register`` registers it only when that judgement passed.

The gate's result is a plain dict, so it is stored as JSON, shown in the run's listing, and
can be read by any step: ``{"passed", "metrics", "champion", "champion_metrics", "reasons",
"run_id"}``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import pandas as pd

from gnomon.data.entities import DatasetVersion
from gnomon.errors import InvalidInput, NotFound
from gnomon.pipelines.components._common import (
    PIPELINE_RUN_TAG,
    client,
    datasets,
    step_run,
    version_of,
)
from gnomon.pipelines.context import current_step
from gnomon.pipelines.decorators import step
from gnomon.registry.entities import ModelVersion

# The metric a champion is compared on when no thresholds name one.
PRIMARY_METRIC = {"classifier": "accuracy", "regressor": "rmse"}
_DELTAS = ("min_delta", "max_delta")


@step
def evaluate(
    model: Any,
    holdout: pd.DataFrame,
    target: str,
    model_name: str,
    champion_alias: str = "production",
    thresholds: dict[str, Any] | None = None,
    model_type: str = "classifier",
) -> dict[str, Any]:
    """Score ``model`` (a fitted model or a ``runs:/``/``models:/`` URI) on ``holdout`` with
    ``gnomon.evaluate``, and the champion (``model_name@champion_alias``) on the same rows.

    It passes when every threshold holds and, where there is a champion, the candidate is no
    worse than the champion on each threshold's metric (``accuracy`` for a classifier,
    ``rmse`` for a regressor when no threshold names one); with no champion the thresholds
    alone decide. A threshold is a number, a bound in the metric's better direction
    (``{"accuracy": 0.9}``: at least 0.9; ``{"rmse": 2.5}``: at most 2.5), or the
    conditions of ``gnomon.evaluate`` (``{"f1": {"min_value": 0.8, "min_delta": 0.01}}``).

    The evaluation is logged (metrics, plots, verdict) in a tracking run named after the
    step. The result is cached by its inputs: the same model on the same rows is not judged
    twice, so a repeated run does not register it again.
    """
    from gnomon.evaluation import evaluate as score

    champion = _champion(model_name, champion_alias)
    conditions = gate_conditions(thresholds, model_type, champion is not None)
    with step_run("evaluate"):
        result = score(
            model,
            holdout,
            target,
            model_type=model_type,
            baseline=champion,
            thresholds=conditions or None,
        )
    verdict = result.verdict
    reasons = (
        [f"{check.metric}: {check.reason}" for check in verdict.checks]
        if verdict is not None
        else ["no thresholds and no champion: nothing to fail"]
    )
    return {
        "passed": verdict is None or verdict.passed,
        "metrics": plain_metrics(result.metrics),
        "champion": champion,
        "champion_metrics": plain_metrics(result.baseline_metrics),
        "reasons": reasons,
        "run_id": result.run_id,
    }


def _champion(name: str, alias: str) -> str | None:
    """The champion's pinned URI (``models:/name/3``), or None when there is none yet."""
    try:
        version = client().registry.get_version(name, alias)
    except NotFound:
        return None
    return f"models:/{version.model_name}/{version.version}"


def gate_conditions(
    thresholds: Mapping[str, Any] | None, model_type: str, has_champion: bool
) -> dict[str, dict[str, Any]]:
    """``gnomon.evaluate``'s thresholds: each bound as given, plus no-worse-than-the-champion."""
    from gnomon.tracking.comparison import lower_is_better

    if thresholds is not None and not isinstance(thresholds, Mapping):
        raise InvalidInput(f"evaluate: thresholds map a metric to a bound, not {thresholds!r}")
    given = dict(thresholds or {})
    metrics = list(given) or [PRIMARY_METRIC.get(model_type, "accuracy")]
    out: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        bound = given.get(metric)
        if bound is None:
            conditions: dict[str, Any] = {}
        elif isinstance(bound, Mapping):
            conditions = dict(bound)
        elif isinstance(bound, numbers.Real) and not isinstance(bound, bool):
            key = "max_value" if lower_is_better(str(metric)) else "min_value"
            conditions = {key: float(bound)}
        else:
            raise InvalidInput(
                f"evaluate: the threshold of {metric!r} is a number or a dict of conditions, "
                f"not {bound!r}"
            )
        if has_champion and not any(key in conditions for key in _DELTAS):
            conditions["min_delta"] = 0.0  # no worse than the champion
        if conditions:
            out[str(metric)] = conditions
    return out


def plain_metrics(metrics: Mapping[str, float] | None) -> dict[str, float | None] | None:
    if metrics is None:
        return None
    return {k: None if math.isnan(v) else float(v) for k, v in metrics.items()}


@step
def register(
    model: Any,
    gate: dict[str, Any],
    name: str,
    alias: str | None = "production",
    training_data: DatasetVersion | str | None = None,
) -> ModelVersion | None:
    """Register ``model`` as the next version of ``name`` and point ``alias`` at it, only if
    ``gate["passed"]`` (``alias`` None: no alias); otherwise register nothing, return None.

    ``model`` is a logged model's URI (``train``'s ``uri``: its run, params and training
    data stay the version's lineage) or a fitted model, then logged here first in a run of
    its own, which records ``training_data`` (a dataset version) as its training input. A
    URI the alias already points to is not registered twice: that version is returned.
    """
    if not isinstance(gate, Mapping) or not isinstance(gate.get("passed"), bool):
        raise InvalidInput("register: gate is the result of evaluate, a dict with 'passed'")
    if not gate["passed"]:
        print(f"not registered: the gate failed: {'; '.join(map(str, gate.get('reasons', [])))}")
        return None
    registry = client().registry
    if isinstance(model, str):
        source = model
        current = None if alias is None else _current(name, alias)
        if current is not None and current.source == source:
            return current
    else:
        source = _logged(model, training_data)
    tags = {"gnomon.gate": "passed"}
    for metric, value in (gate.get("metrics") or {}).items():
        if value is not None:
            tags[f"gnomon.gate.{metric}"] = str(value)
    context = current_step()
    if context is not None:
        tags[PIPELINE_RUN_TAG] = context.run_id
    return registry.register(source, name, tags=tags, alias=alias)


def _current(name: str, alias: str) -> ModelVersion | None:
    try:
        return client().registry.get_version(name, alias)
    except NotFound:
        return None


def _logged(model: Any, training_data: DatasetVersion | str | None) -> str:
    import gnomon

    with step_run("register") as run:
        # No contract without an example of the inputs: the dataset's schema alone would
        # also require the target column. train logs models with one.
        uri = gnomon.log_model(model, "model")
        if training_data is not None:
            ref = version_of(training_data).ref
            datasets().log_input(run.id, ref, "training")
    return uri


__all__ = ["PRIMARY_METRIC", "evaluate", "gate_conditions", "plain_metrics", "register"]
