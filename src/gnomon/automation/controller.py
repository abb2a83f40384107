"""The rollout controller's judgement of a stage on its evidence: pure, so every rule is
tested without a server.

- A live stage (canary) rolls back as soon as the candidate, over enough answers, breaks a
  limit: more failures than ``max_error_rate`` beyond the primary's own (what every version
  fails is the callers' input, not the candidate), a p99 latency over ``max_p99_ratio`` times
  the primary's (once both answered ``MIN_LATENCY_ANSWERS``), or (where outcomes came
  back) the gate's metric worse than the primary's by more than ``max_metric_drop``.
- It advances once its hold time is over and the candidate answered ``min_requests``.
- A hold that ends with too few answers is extended, and said so: a stage never advances on
  no data.
- A shadow stage is judged once ``min_requests`` answers were compared with the primary's, or
  when its time is up with at least a tenth of them: agreement, failures and latency.
"""

from __future__ import annotations

from dataclasses import dataclass

from gnomon.automation.entities import Action, Plan, Stage
from gnomon.automation.evidence import ArmFigures, Evidence
from gnomon.automation.spec import Limits
from gnomon.tracking.comparison import lower_is_better

MIN_JUDGED = 20  # answers (or labelled answers) before a limit can roll a stage back early
MIN_LATENCY_MS = 1.0  # below this a p99 ratio says nothing: both are instant
# A p99 of fewer answers is their slowest one: a new version's first, cold call would roll
# it back. Latency is compared once both arms answered this many.
MIN_LATENCY_ANSWERS = 100


@dataclass(frozen=True, slots=True)
class Judgement:
    action: Action  # "hold", "extend", "advance" or "rollback"
    reason: str


def judge(stage: Stage, plan: Plan, evidence: Evidence, elapsed_s: float) -> Judgement:
    if stage.kind == "shadow":
        return _shadow(stage, plan.limits, evidence, elapsed_s)
    return _canary(stage, plan, evidence, elapsed_s)


def _canary(stage: Stage, plan: Plan, evidence: Evidence, elapsed_s: float) -> Judgement:
    candidate, primary = evidence.candidate, evidence.primary
    if candidate.answered >= min(MIN_JUDGED, stage.min_requests):
        broken = _broken(plan, candidate, primary)
        if broken:
            return Judgement("rollback", f"{stage.describe()}: {broken}")
    if elapsed_s < stage.hold_s:
        return Judgement("hold", f"{stage.describe()}: holding, {_seen(candidate, stage)}")
    if candidate.answered < stage.min_requests:
        return Judgement(
            "extend",
            f"{stage.describe()}: only {candidate.answered} of {stage.min_requests} answers "
            f"in {elapsed_s:.0f} s; the hold is extended",
        )
    return Judgement("advance", f"{stage.describe()}: {_healthy(plan, candidate, primary)}")


def _shadow(stage: Stage, limits: Limits, evidence: Evidence, elapsed_s: float) -> Judgement:
    compared, agreement = evidence.compared, evidence.agreement
    enough = compared >= stage.min_requests
    timed_out = elapsed_s >= stage.hold_s
    if not enough and not timed_out:
        return Judgement(
            "hold", f"shadow: {compared} of {stage.min_requests} answers compared so far"
        )
    candidate, primary = evidence.candidate, evidence.primary
    if compared < max(1, stage.min_requests // 10):
        # Failed answers are never compared: a candidate failing them all is rolled back,
        # not waited for.
        failing = _operational(limits, candidate, primary)
        if candidate.answered >= MIN_JUDGED and failing:
            return Judgement("rollback", "shadow: " + "; ".join(failing))
        return Judgement(
            "extend",
            f"shadow: only {compared} answers compared with the primary's in {elapsed_s:.0f} s "
            f"(at least {max(1, stage.min_requests // 10)} needed); extended",
        )
    problems = []
    if agreement is not None and agreement < limits.min_agreement:
        problems.append(
            f"agrees with the primary on {agreement:.1%} of {compared} answers "
            f"(at least {limits.min_agreement:.0%} wanted)"
        )
    problems += _operational(limits, candidate, primary)
    if problems:
        return Judgement("rollback", "shadow: " + "; ".join(problems))
    return Judgement(
        "advance",
        f"shadow: agrees on {agreement or 0:.1%} of {compared} answers, "
        f"{_latency(candidate, primary)}, {candidate.failed} failed",
    )


def _broken(plan: Plan, candidate: ArmFigures, primary: ArmFigures) -> str | None:
    problems = _operational(plan.limits, candidate, primary, beside=True)
    drop = plan.limits.max_metric_drop
    if drop is not None and _labelled(candidate, primary):
        assert candidate.metric is not None and primary.metric is not None
        worse = _worse_by(plan, candidate.metric, primary.metric)
        if worse > drop:
            problems.append(
                f"{_metric(plan)} on outcomes {candidate.metric:.4g} against the primary's "
                f"{primary.metric:.4g} ({candidate.labelled} and {primary.labelled} labelled): "
                f"worse by {worse:.4g}, more than {drop:g}"
            )
    return "; ".join(problems) or None


def _operational(
    limits: Limits, candidate: ArmFigures, primary: ArmFigures, beside: bool = False
) -> list[str]:
    """``beside``: the candidate answers the same kind of requests as the primary (a canary;
    a shadow gets only those the primary answered), so what the primary fails too (input
    every version refuses, a caller's or a hostile one's) is not the candidate's doing."""
    problems = []
    base = primary.error_rate if beside and primary.answered >= MIN_JUDGED else 0.0
    if candidate.answered and candidate.error_rate - base > limits.max_error_rate:
        allowed = f"at most {limits.max_error_rate:.1%}"
        if base:
            allowed = f"the primary's {base:.1%}; {allowed} more"
        problems.append(
            f"{candidate.failed} of {candidate.answered} answers failed "
            f"({candidate.error_rate:.1%}, {allowed})"
        )
    ratio = _p99_ratio(candidate, primary)
    if ratio is not None and ratio > limits.max_p99_ratio:
        problems.append(
            f"p99 latency {candidate.p99_ms:.1f} ms is {ratio:.1f} times the primary's "
            f"{primary.p99_ms:.1f} ms (at most {limits.max_p99_ratio:g} times)"
        )
    return problems


def _p99_ratio(candidate: ArmFigures, primary: ArmFigures) -> float | None:
    if candidate.p99_ms is None or primary.p99_ms is None:
        return None
    if min(candidate.answered, primary.answered) < MIN_LATENCY_ANSWERS:
        return None
    return max(candidate.p99_ms, MIN_LATENCY_MS) / max(primary.p99_ms, MIN_LATENCY_MS)


def _labelled(candidate: ArmFigures, primary: ArmFigures) -> bool:
    return (
        candidate.metric is not None
        and primary.metric is not None
        and candidate.labelled >= MIN_JUDGED
        and primary.labelled >= MIN_JUDGED
    )


def _metric(plan: Plan) -> str:
    return "accuracy" if plan.model_type == "classifier" else "rmse"


def _worse_by(plan: Plan, candidate: float, primary: float) -> float:
    """How much worse the candidate is, in the metric's own direction (negative: better)."""
    if lower_is_better(_metric(plan)):
        return candidate - primary
    return primary - candidate


def _seen(candidate: ArmFigures, stage: Stage) -> str:
    return f"{candidate.answered} of {stage.min_requests} answers so far"


def _latency(candidate: ArmFigures, primary: ArmFigures) -> str:
    if candidate.p99_ms is None or primary.p99_ms is None:
        return "latency not compared"
    return f"p99 {candidate.p99_ms:.1f} ms against {primary.p99_ms:.1f} ms"


def _healthy(plan: Plan, candidate: ArmFigures, primary: ArmFigures) -> str:
    said = [
        f"{candidate.answered} answers, {candidate.failed} failed",
        _latency(candidate, primary),
    ]
    if _labelled(candidate, primary):
        said.append(
            f"{_metric(plan)} on outcomes {candidate.metric:.4g} against {primary.metric:.4g}"
        )
    else:
        said.append(f"too few outcomes to compare ({candidate.labelled} labelled)")
    return ", ".join(said)


__all__ = ["MIN_JUDGED", "MIN_LATENCY_ANSWERS", "Judgement", "judge"]
