"""What an evaluation writes to its run, by name: ``gnomon models compare`` and the pipeline
gate read them back. Importing this module loads nothing heavy."""

from __future__ import annotations

from typing import Final

MODEL_TYPES: Final = ("classifier", "regressor")
CLASSIFIER_METRICS: Final = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSOR_METRICS: Final = ("rmse", "mae", "r2")
METRICS: Final = {"classifier": CLASSIFIER_METRICS, "regressor": REGRESSOR_METRICS}
# Which way is better comes from gnomon.tracking.comparison.lower_is_better, the rule
# comparisons of runs use too: rmse, mae and log_loss are better when lower.

METRIC_PREFIX: Final = "eval_"  # eval_f1: the evaluated model's metric
BASELINE_PREFIX: Final = "eval_baseline_"  # eval_baseline_f1: the baseline's, on the same data
ARTIFACT_DIR: Final = "evaluation"
MODEL_TYPE_TAG: Final = "gnomon.evaluation.model_type"
MODEL_TAG: Final = "gnomon.evaluation.model"  # the evaluated model's URI, when given one
BASELINE_TAG: Final = "gnomon.evaluation.baseline"
VERDICT_TAG: Final = "gnomon.evaluation.verdict"  # passed | failed


def evaluated_metric(key: str) -> str | None:
    """The metric name of a run metric an evaluation logged for the evaluated model
    (``eval_f1`` → ``f1``), or ``None`` for any other key (the baseline's included)."""
    if not key.startswith(METRIC_PREFIX) or key.startswith(BASELINE_PREFIX):
        return None
    return key[len(METRIC_PREFIX) :]
