"""judge: thresholds in, a verdict out, pure data both ways."""

from __future__ import annotations

import json
import math

import pytest

from gnomon.errors import InvalidInput
from gnomon.evaluation import Verdict, check_thresholds, judge
from gnomon.tracking.comparison import lower_is_better


def test_min_delta_is_improvement_in_the_metrics_direction() -> None:
    rule = {"f1": {"min_delta": 0.02}, "rmse": {"min_delta": 0.5}}
    better = judge({"f1": 0.85, "rmse": 2.0}, rule, baseline={"f1": 0.80, "rmse": 3.0})
    assert better.passed
    checks = {c.metric: c for c in better.checks}
    assert checks["rmse"].delta == pytest.approx(-1.0)  # as measured: rmse fell by 1
    assert "better by 1" in checks["rmse"].reason
    worse = judge({"f1": 0.81, "rmse": 2.8}, rule, baseline={"f1": 0.80, "rmse": 3.0})
    assert [c.metric for c in worse.failed] == ["f1", "rmse"]
    assert "better by 0.2 (min_delta 0.5)" in worse.failed[1].reason


def test_zero_min_delta_means_no_worse() -> None:
    rule = {"log_loss": {"min_delta": 0.0}}
    assert judge({"log_loss": 0.3}, rule, baseline={"log_loss": 0.3}).passed
    assert not judge({"log_loss": 0.31}, rule, baseline={"log_loss": 0.3}).passed


@pytest.mark.parametrize("metric", ["val_loss", "error_rate", "rmse", "eval_log_loss"])
def test_loss_and_error_metrics_are_better_when_lower(metric: str) -> None:
    rule = {metric: {"min_delta": 0}}
    worse = judge({metric: 0.5}, rule, baseline={metric: 0.3})
    assert not worse.passed
    assert worse.checks[0].reason == (
        f"{metric} 0.5 vs baseline 0.3 (lower is better): worse by 0.2 (min_delta 0)"
    )
    assert judge({metric: 0.3}, rule, baseline={metric: 0.5}).passed


@pytest.mark.parametrize(
    "metric", ["val_loss", "error_rate", "rmse", "p95_latency", "f1", "r2", "val_accuracy"]
)
def test_the_verdict_and_run_comparisons_share_one_direction_rule(metric: str) -> None:
    lower_wins = judge({metric: 1.0}, {metric: {"min_delta": 0.5}}, {metric: 2.0}).passed
    assert lower_wins is lower_is_better(metric)


def test_an_explicit_direction_overrides_the_name_rule() -> None:
    alarms = {"false_alarms": {"max_delta": 0, "higher_is_better": False}}
    assert not judge({"false_alarms": 4}, alarms, baseline={"false_alarms": 3}).passed
    assert judge({"false_alarms": 2}, alarms, baseline={"false_alarms": 3}).passed
    guessed = judge({"false_alarms": 4}, {"false_alarms": {"max_delta": 0}}, {"false_alarms": 3})
    assert guessed.passed  # without the direction, the name reads as higher-is-better
    # the name rule reads "time" as lower-is-better; time saved is better when higher
    saved = {"time_saved": {"min_delta": 1.0, "higher_is_better": True}}
    verdict = judge({"time_saved": 12.0}, saved, baseline={"time_saved": 10.0})
    assert verdict.passed and verdict.checks[0].delta == 2.0
    assert "better by 2" in verdict.checks[0].reason
    both = {"time_saved": {"min_value": 5, "higher_is_better": True}}
    assert check_thresholds(both, ["time_saved"], has_baseline=False) == {
        "time_saved": {"min_value": 5.0, "higher_is_better": True}
    }


def test_max_delta_bounds_the_regression() -> None:
    rule = {"rmse": {"max_delta": 0.5}, "accuracy": {"max_delta": 0.01}}
    assert judge({"rmse": 3.4, "accuracy": 0.895}, rule, {"rmse": 3.0, "accuracy": 0.9}).passed
    verdict = judge({"rmse": 3.6, "accuracy": 0.88}, rule, {"rmse": 3.0, "accuracy": 0.9})
    assert [c.metric for c in verdict.failed] == ["rmse", "accuracy"]
    assert "worse by 0.6 (max_delta 0.5)" in verdict.failed[0].reason


def test_value_bounds_need_no_baseline() -> None:
    rule = {"accuracy": {"min_value": 0.8}, "mae": {"max_value": 2}}
    assert judge({"accuracy": 0.8, "mae": 2.0}, rule).passed
    verdict = judge({"accuracy": 0.79, "mae": 2.5}, rule)
    assert not verdict.passed
    assert [c.reason for c in verdict.failed] == [
        "accuracy 0.79 < min_value 0.8",
        "mae 2.5 > max_value 2",
    ]
    assert verdict.checks[0].baseline is None and verdict.checks[0].delta is None


@pytest.mark.parametrize(
    ("candidate", "baseline"), [({}, {"f1": 0.8}), ({"f1": math.nan}, {"f1": 0.8})]
)
def test_a_missing_or_nan_metric_fails(candidate: dict[str, float], baseline: dict) -> None:
    verdict = judge(candidate, {"f1": {"min_delta": -1.0}}, baseline)
    assert not verdict.passed and verdict.checks[0].candidate is None
    assert "missing or undefined" in verdict.checks[0].reason


def test_the_verdict_round_trips_through_json() -> None:
    verdict = judge(
        {"f1": 0.9, "roc_auc": 0.7},
        {"f1": {"min_value": 0.5}, "roc_auc": {"min_delta": 0.0}},
        {"f1": 0.8, "roc_auc": 0.75},
    )
    data = json.loads(json.dumps(verdict.to_dict(), allow_nan=False))
    assert data["passed"] is False and data["checks"]["f1"]["passed"] is True
    assert Verdict.from_dict(data) == verdict


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ([("f1", 0.1)], "thresholds must be a dict"),
        ({"f1": 0.8}, "thresholds for 'f1' must be a non-empty dict"),
        ({"f1": {}}, "thresholds for 'f1' must be a non-empty dict"),
        ({"f1": {"min": 0.8}}, "unknown threshold 'min' for 'f1'"),
        ({"f1": {"min_value": True}}, "must be a finite number, got True"),
        ({"f1": {"min_value": math.inf}}, "must be a finite number, got inf"),
        ({"f1": {"max_delta": 0.1}}, "compares with a baseline"),
        ({"accuracy_score": {"min_value": 0.1}}, "unknown metric 'accuracy_score'"),
        ({"f1": {"higher_is_better": "no"}}, "higher_is_better of 'f1' must be True or False"),
        ({"f1": {"higher_is_better": 1}}, "must be True or False, got 1"),
        ({"f1": {"higher_is_better": False}}, "give a direction but no condition"),
        ({"f1": {"higher_better": False}}, "did you mean 'higher_is_better'"),
    ],
)
def test_malformed_thresholds_are_named(thresholds: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_thresholds(thresholds, ["f1", "accuracy"], has_baseline=False)  # type: ignore[arg-type]
