"""Writing an evaluation to its run: metrics, tags, plots, tables and JSON."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gnomon.evaluation import names
from gnomon.tracking import fluent
from gnomon.tracking.entities import RunStatus

if TYPE_CHECKING:
    from gnomon.evaluation.evaluating import Scored
    from gnomon.evaluation.result import EvaluationResult

RUN_NAME = "evaluate"  # the run an evaluation starts when none is active


def record(scored: Scored, model: Any, baseline: Any) -> EvaluationResult:
    """Log ``scored`` to the active run, or to a new run ended here (FAILED if logging
    fails); returns the result with the artifacts' paths."""
    active = fluent.active_run()
    run = active or fluent.start_run(name=RUN_NAME)
    try:
        artifacts = _log(scored, model, baseline)
        described = None if baseline is None else _describe(baseline)
        result = scored.result(run.id, artifacts, _describe(model), described)
        fluent.log_dict(result.to_dict(), artifacts["result"])
    except BaseException:
        if active is None:
            fluent.end_run(RunStatus.FAILED)
        raise
    if active is None:
        fluent.end_run()
    return result


def _log(scored: Scored, model: Any, baseline: Any) -> dict[str, str]:
    fluent.log_metrics(_defined(names.METRIC_PREFIX, scored.metrics))
    tags = {names.MODEL_TYPE_TAG: scored.model_type}
    if isinstance(model, str):
        tags[names.MODEL_TAG] = model
    if scored.baseline_metrics is not None:
        fluent.log_metrics(_defined(names.BASELINE_PREFIX, scored.baseline_metrics))
        tags[names.BASELINE_TAG] = _describe(baseline)
    if scored.verdict is not None:
        tags[names.VERDICT_TAG] = "passed" if scored.verdict.passed else "failed"
    fluent.set_tags(tags)
    folder = names.ARTIFACT_DIR
    artifacts = {}
    for name, figure in scored.figures.items():
        artifacts[name] = fluent.log_figure(figure, f"{folder}/{name}.png")
    if scored.segments is not None:
        artifacts["segments"] = fluent.log_table(scored.segments, f"{folder}/segments.parquet")
    if scored.verdict is not None:
        artifacts["verdict"] = fluent.log_dict(scored.verdict.to_dict(), f"{folder}/verdict.json")
    artifacts["result"] = f"{folder}/result.json"
    return artifacts


def _defined(prefix: str, metrics: dict[str, float]) -> dict[str, float]:
    # An undefined metric (NaN) stays in result.json as null; as a run metric it says nothing.
    return {f"{prefix}{k}": v for k, v in metrics.items() if not math.isnan(v)}


def _describe(model: Any) -> str:
    return model if isinstance(model, str) else f"in-memory {type(model).__qualname__}"
