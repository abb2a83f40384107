"""judge on evidence built by hand: a canary holds, advances, extends or rolls back early on
its limits; a shadow holds for its comparisons, extends on too few, and is judged on
agreement; every reason names the figures it went on."""

from __future__ import annotations

import pytest

from gnomon.automation.controller import MIN_JUDGED, MIN_LATENCY_ANSWERS, judge
from gnomon.automation.entities import Plan, Stage
from gnomon.automation.evidence import ArmFigures, Evidence
from gnomon.automation.spec import Limits

CANARY = Stage("canary", weight=10, hold_s=300.0, min_requests=100)
SHADOW = Stage("shadow", hold_s=900.0, min_requests=200)
CLASSIFIER = Plan("canary", (Stage("smoke"), CANARY, Stage("promote")))
REGRESSOR = Plan("canary", CLASSIFIER.stages, metric="rmse", model_type="regressor")
PRIMARY = ArmFigures(answered=900, failed=0, p50_ms=4.0, p99_ms=10.0)


def evidence(
    candidate: ArmFigures,
    primary: ArmFigures = PRIMARY,
    compared: int = 0,
    agreement: float | None = None,
) -> Evidence:
    return Evidence(0, 60_000, primary, candidate, compared, agreement)


def arm(answered: int, failed: int = 0, p99_ms: float | None = 12.0, **more: object) -> ArmFigures:
    return ArmFigures(answered, failed, 5.0, p99_ms, **more)  # type: ignore[arg-type]


def labelled(answered: int, metric: float, n: int = MIN_JUDGED) -> ArmFigures:
    return arm(answered, labelled=n, metric=metric)


# -- canary: hold, advance, extend ------------------------------------------------------------


def test_a_canary_holds_until_its_time_is_up() -> None:
    verdict = judge(CANARY, CLASSIFIER, evidence(arm(50)), 100.0)
    assert verdict.action == "hold"
    assert verdict.reason == "canary 10%: holding, 50 of 100 answers so far"


def test_enough_answers_do_not_cut_the_hold_short() -> None:
    assert judge(CANARY, CLASSIFIER, evidence(arm(5000)), 299.9).action == "hold"


def test_a_canary_advances_after_its_hold_with_enough_answers() -> None:
    verdict = judge(CANARY, CLASSIFIER, evidence(arm(100)), 300.0)
    assert verdict.action == "advance"
    assert verdict.reason == (
        "canary 10%: 100 answers, 0 failed, p99 12.0 ms against 10.0 ms, "
        "too few outcomes to compare (0 labelled)"
    )


def test_an_advance_names_the_outcomes_when_there_are_enough() -> None:
    candidate = arm(150, 1, labelled=40, metric=0.905)
    primary = ArmFigures(900, 2, 4.0, 10.0, labelled=300, metric=0.91)
    verdict = judge(CANARY, CLASSIFIER, evidence(candidate, primary), 400.0)
    assert verdict.action == "advance"
    assert verdict.reason == (
        "canary 10%: 150 answers, 1 failed, p99 12.0 ms against 10.0 ms, "
        "accuracy on outcomes 0.905 against 0.91"
    )


def test_an_advance_says_when_latency_was_not_compared() -> None:
    verdict = judge(CANARY, CLASSIFIER, evidence(arm(100, p99_ms=None)), 300.0)
    assert (verdict.action, "latency not compared" in verdict.reason) == ("advance", True)


@pytest.mark.parametrize("answered", [0, 1, 99])
@pytest.mark.parametrize("elapsed", [300.0, 86_400.0])
def test_a_hold_that_ends_with_too_few_answers_is_extended_never_advanced(
    answered: int, elapsed: float
) -> None:
    verdict = judge(CANARY, CLASSIFIER, evidence(arm(answered)), elapsed)
    assert verdict.action == "extend"
    assert verdict.reason == (
        f"canary 10%: only {answered} of 100 answers in {elapsed:.0f} s; the hold is extended"
    )


# -- canary: early rollback on its limits -----------------------------------------------------


def test_too_many_failures_roll_back_before_the_hold_is_up() -> None:
    verdict = judge(CANARY, CLASSIFIER, evidence(arm(50, 1)), 10.0)
    assert verdict.action == "rollback"
    assert verdict.reason == "canary 10%: 1 of 50 answers failed (2.0%, at most 1.0%)"


def test_failures_at_the_limit_are_not_too_many() -> None:
    assert judge(CANARY, CLASSIFIER, evidence(arm(100, 1)), 300.0).action == "advance"


def test_failures_are_not_judged_on_fewer_than_min_judged_answers() -> None:
    every_one_failed = arm(MIN_JUDGED - 1, MIN_JUDGED - 1)
    assert judge(CANARY, CLASSIFIER, evidence(every_one_failed), 10.0).action == "hold"
    assert judge(CANARY, CLASSIFIER, evidence(arm(MIN_JUDGED, 1)), 10.0).action == "rollback"


def test_a_stage_wanting_few_answers_is_judged_on_that_few() -> None:
    small = Stage("canary", 10, 300.0, min_requests=5)
    assert judge(small, CLASSIFIER, evidence(arm(5, 1)), 10.0).action == "rollback"
    assert judge(small, CLASSIFIER, evidence(arm(4, 4)), 10.0).action == "hold"


def test_a_slow_candidate_rolls_back_on_its_p99_ratio() -> None:
    verdict = judge(CANARY, CLASSIFIER, evidence(arm(100, p99_ms=25.0)), 10.0)
    assert verdict.action == "rollback"
    assert verdict.reason == (
        "canary 10%: p99 latency 25.0 ms is 2.5 times the primary's 10.0 ms (at most 2 times)"
    )


def test_a_p99_at_the_ratio_is_not_too_slow() -> None:
    assert judge(CANARY, CLASSIFIER, evidence(arm(100, p99_ms=20.0)), 300.0).action == "advance"


def test_latency_is_not_compared_until_both_arms_answered_enough() -> None:
    few = ArmFigures(MIN_LATENCY_ANSWERS - 1, 0, 4.0, 10.0)
    assert judge(CANARY, CLASSIFIER, evidence(arm(100, p99_ms=90.0), few), 10.0).action == "hold"
    enough = ArmFigures(MIN_LATENCY_ANSWERS, 0, 4.0, 10.0)
    slow = judge(CANARY, CLASSIFIER, evidence(arm(100, p99_ms=90.0), enough), 10.0)
    assert slow.action == "rollback"
    # A candidate's p99 over fewer answers is its slowest, maybe a cold first call.
    cold = judge(CANARY, CLASSIFIER, evidence(arm(99, p99_ms=90.0), enough), 10.0)
    assert cold.action == "hold"


def test_latencies_under_a_millisecond_are_not_compared_as_ratios() -> None:
    instant = ArmFigures(900, 0, 0.05, 0.1)
    verdict = judge(CANARY, CLASSIFIER, evidence(arm(100, p99_ms=0.9), instant), 300.0)
    assert verdict.action == "advance"


def test_a_worse_accuracy_on_outcomes_rolls_back() -> None:
    candidate = labelled(30, 0.85)
    primary = ArmFigures(900, 0, 4.0, 10.0, labelled=50, metric=0.9)
    verdict = judge(CANARY, CLASSIFIER, evidence(candidate, primary), 10.0)
    assert verdict.action == "rollback"
    assert verdict.reason == (
        "canary 10%: accuracy on outcomes 0.85 against the primary's 0.9 "
        "(20 and 50 labelled): worse by 0.05, more than 0.02"
    )


@pytest.mark.parametrize("metric", [0.89, 0.9, 0.95])
def test_an_accuracy_within_the_drop_or_better_does_not_roll_back(metric: float) -> None:
    primary = ArmFigures(900, 0, 4.0, 10.0, labelled=50, metric=0.9)
    verdict = judge(CANARY, CLASSIFIER, evidence(labelled(100, metric), primary), 300.0)
    assert verdict.action == "advance"


@pytest.mark.parametrize(
    ("candidate_n", "primary_n"), [(MIN_JUDGED - 1, 500), (500, MIN_JUDGED - 1)]
)
def test_outcomes_are_not_judged_on_too_few_labelled_answers(
    candidate_n: int, primary_n: int
) -> None:
    primary = ArmFigures(900, 0, 4.0, 10.0, labelled=primary_n, metric=0.99)
    verdict = judge(CANARY, CLASSIFIER, evidence(labelled(100, 0.5, candidate_n), primary), 300.0)
    assert verdict.action == "advance"
    assert f"too few outcomes to compare ({candidate_n} labelled)" in verdict.reason


def test_no_metric_drop_limit_means_outcomes_never_roll_back() -> None:
    plan = Plan("canary", CLASSIFIER.stages, Limits(max_metric_drop=None))
    primary = ArmFigures(900, 0, 4.0, 10.0, labelled=50, metric=0.9)
    assert judge(CANARY, plan, evidence(labelled(100, 0.1), primary), 300.0).action == "advance"


def test_a_regressors_higher_rmse_rolls_back() -> None:
    primary = ArmFigures(900, 0, 4.0, 10.0, labelled=50, metric=1.0)
    verdict = judge(CANARY, REGRESSOR, evidence(labelled(30, 1.5), primary), 10.0)
    assert verdict.action == "rollback"
    assert verdict.reason == (
        "canary 10%: rmse on outcomes 1.5 against the primary's 1 (20 and 50 labelled): "
        "worse by 0.5, more than 0.02"
    )


def test_a_regressors_lower_rmse_is_better_not_a_drop() -> None:
    primary = ArmFigures(900, 0, 4.0, 10.0, labelled=50, metric=1.0)
    verdict = judge(CANARY, REGRESSOR, evidence(labelled(100, 0.5), primary), 300.0)
    assert verdict.action == "advance"
    assert verdict.reason.endswith("rmse on outcomes 0.5 against 1")


def test_every_broken_limit_is_named() -> None:
    candidate = arm(100, 10, p99_ms=50.0, labelled=20, metric=0.5)
    primary = ArmFigures(900, 0, 4.0, 10.0, labelled=50, metric=0.9)
    verdict = judge(CANARY, CLASSIFIER, evidence(candidate, primary), 10.0)
    assert verdict.action == "rollback"
    problems = verdict.reason.removeprefix("canary 10%: ").split("; ")
    assert [p.split(" ")[0] for p in problems] == ["10", "p99", "accuracy"]


# -- shadow -----------------------------------------------------------------------------------


def shadow(compared: int, agreement: float | None, candidate: ArmFigures | None = None) -> Evidence:
    return evidence(candidate or arm(compared), compared=compared, agreement=agreement)


def test_a_shadow_holds_until_enough_were_compared() -> None:
    verdict = judge(SHADOW, CLASSIFIER, shadow(150, 0.5), 100.0)
    # Low agreement so far says nothing yet: a shadow takes no live traffic.
    assert verdict.action == "hold"
    assert verdict.reason == "shadow: 150 of 200 answers compared so far"


def test_a_shadow_is_judged_once_enough_were_compared() -> None:
    verdict = judge(SHADOW, CLASSIFIER, shadow(200, 0.95), 100.0)
    assert verdict.action == "advance"
    assert verdict.reason == (
        "shadow: agrees on 95.0% of 200 answers, p99 12.0 ms against 10.0 ms, 0 failed"
    )


def test_a_shadow_is_judged_at_time_up_with_a_tenth_of_its_comparisons() -> None:
    assert judge(SHADOW, CLASSIFIER, shadow(20, 0.95), 900.0).action == "advance"


@pytest.mark.parametrize("compared", [0, 5, 19])
def test_a_shadow_with_under_a_tenth_at_time_up_is_extended(compared: int) -> None:
    verdict = judge(SHADOW, CLASSIFIER, shadow(compared, 1.0 if compared else None), 900.0)
    assert verdict.action == "extend"
    assert verdict.reason == (
        f"shadow: only {compared} answers compared with the primary's in 900 s "
        "(at least 20 needed); extended"
    )


def test_a_small_shadow_needs_at_least_one_comparison() -> None:
    small = Stage("shadow", hold_s=60.0, min_requests=5)
    assert judge(small, CLASSIFIER, shadow(0, None), 60.0).action == "extend"
    assert judge(small, CLASSIFIER, shadow(1, 1.0), 60.0).action == "advance"


def test_a_shadow_that_disagrees_rolls_back() -> None:
    verdict = judge(SHADOW, CLASSIFIER, shadow(200, 0.85), 100.0)
    assert verdict.action == "rollback"
    assert verdict.reason == (
        "shadow: agrees with the primary on 85.0% of 200 answers (at least 90% wanted)"
    )


def test_agreement_at_the_limit_advances() -> None:
    assert judge(SHADOW, CLASSIFIER, shadow(200, 0.9), 100.0).action == "advance"


def test_a_shadow_is_held_to_its_plans_agreement_limit() -> None:
    lenient = Plan("shadow", (SHADOW,), Limits(min_agreement=0.5))
    assert judge(SHADOW, lenient, shadow(200, 0.6), 100.0).action == "advance"


def test_a_failing_or_slow_shadow_rolls_back_and_says_why() -> None:
    failing = judge(SHADOW, CLASSIFIER, shadow(200, 0.99, arm(250, 50)), 100.0)
    assert failing.action == "rollback"
    assert failing.reason == "shadow: 50 of 250 answers failed (20.0%, at most 1.0%)"
    slow = judge(SHADOW, CLASSIFIER, shadow(200, 0.5, arm(200, p99_ms=45.0)), 100.0)
    assert slow.action == "rollback"
    assert slow.reason == (
        "shadow: agrees with the primary on 50.0% of 200 answers (at least 90% wanted); "
        "p99 latency 45.0 ms is 4.5 times the primary's 10.0 ms (at most 2 times)"
    )


def test_a_shadow_whose_every_answer_fails_rolls_back_at_time_up() -> None:
    verdict = judge(SHADOW, CLASSIFIER, shadow(0, None, arm(300, 300)), 900.0)
    assert verdict.action == "rollback"
    assert "300 of 300 answers failed" in verdict.reason
