"""Thresholds in, a verdict out: whether a candidate's metrics are good enough, alone and
against a baseline's. Pure data both ways (JSON-serialisable), so a pipeline gate can judge
metrics it read from runs just as ``evaluate`` does.

Thresholds map a metric to conditions::

    {"f1": {"min_delta": 0.0}, "rmse": {"max_delta": 0.5}, "accuracy": {"min_value": 0.8}}

- ``min_value`` / ``max_value``: bounds on the candidate's value, read literally.
- ``min_delta``: the candidate must be better than the baseline by at least this much, in
  the metric's direction (for rmse, mae and log_loss, better is lower). ``0.0`` means no
  worse; a negative value tolerates that much regression.
- ``max_delta``: the candidate may be worse than the baseline by at most this much, in the
  metric's direction: ``{"rmse": {"max_delta": 0.5}}`` lets rmse rise by up to 0.5.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

from gnomon.errors import InvalidInput
from gnomon.evaluation.names import higher_is_better
from gnomon.suggestions import did_you_mean

THRESHOLD_KEYS: Final = ("min_value", "max_value", "min_delta", "max_delta")
_NEEDS_BASELINE: Final = frozenset({"min_delta", "max_delta"})

Thresholds = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True, slots=True)
class MetricCheck:
    """One metric judged: ``delta`` is ``candidate - baseline`` as measured (negative when
    rmse fell), ``reason`` says which condition failed, or that all held."""

    metric: str
    candidate: float | None
    baseline: float | None
    delta: float | None
    passed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """Every threshold's check; ``passed`` when all of them passed."""

    passed: bool
    checks: tuple[MetricCheck, ...]

    @property
    def failed(self) -> list[MetricCheck]:
        return [check for check in self.checks if not check.passed]

    def to_dict(self) -> dict[str, Any]:
        checks = {}
        for check in self.checks:
            fields = asdict(check)
            checks[fields.pop("metric")] = fields
        return {"passed": self.passed, "checks": checks}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        checks = tuple(MetricCheck(metric, **fields) for metric, fields in data["checks"].items())
        return cls(bool(data["passed"]), checks)


def check_thresholds(
    thresholds: Thresholds, known: Collection[str], has_baseline: bool
) -> dict[str, dict[str, float]]:
    """A plain copy of ``thresholds`` after checking every metric, key and value.

    Raises:
        InvalidInput: not a mapping, a metric outside ``known``, an unknown condition, a value
            that is not a finite number, or a delta condition without a baseline.
    """
    if not isinstance(thresholds, Mapping):
        raise InvalidInput(f"thresholds must be a dict of metric → conditions, got {thresholds!r}")
    checked: dict[str, dict[str, float]] = {}
    for metric, conditions in thresholds.items():
        if metric not in known:
            raise InvalidInput(
                f"thresholds name unknown metric {metric!r}{did_you_mean(str(metric), known)} "
                f"(metrics: {', '.join(known)})",
                {"metric": str(metric)},
            )
        checked[metric] = _conditions(metric, conditions, has_baseline)
    return checked


def _conditions(metric: str, conditions: object, has_baseline: bool) -> dict[str, float]:
    if not isinstance(conditions, Mapping) or not conditions:
        raise InvalidInput(
            f"thresholds for {metric!r} must be a non-empty dict such as "
            f"{{'min_delta': 0.0}}, got {conditions!r}",
            {"metric": metric},
        )
    out = {}
    for key, value in conditions.items():
        if key not in THRESHOLD_KEYS:
            raise InvalidInput(
                f"unknown threshold {key!r} for {metric!r}{did_you_mean(str(key), THRESHOLD_KEYS)}"
                f" (conditions: {', '.join(THRESHOLD_KEYS)})",
                {"metric": metric, "key": str(key)},
            )
        number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            raise InvalidInput(
                f"threshold {key} of {metric!r} must be a finite number, got {value!r}",
                {"metric": metric, "key": key},
            )
        if key in _NEEDS_BASELINE and not has_baseline:
            raise InvalidInput(
                f"threshold {key} of {metric!r} compares with a baseline: pass baseline=",
                {"metric": metric, "key": key},
            )
        out[key] = float(value)
    return out


def judge(
    candidate: Mapping[str, float],
    thresholds: Thresholds,
    baseline: Mapping[str, float] | None = None,
) -> Verdict:
    """Judge ``candidate``'s metrics (and the ``baseline``'s, for delta conditions) against
    ``thresholds``. A metric that is missing or NaN fails every condition on it.

    Example:
        >>> judge({"f1": 0.84}, {"f1": {"min_delta": 0.0}}, baseline={"f1": 0.81}).passed
        True

    Raises:
        InvalidInput: malformed thresholds, or a delta condition without ``baseline``.
    """
    checked = check_thresholds(thresholds, list(thresholds), baseline is not None)
    checks = tuple(
        _check(metric, conditions, _value(candidate, metric), _value(baseline, metric))
        for metric, conditions in checked.items()
    )
    return Verdict(all(c.passed for c in checks), checks)


def _value(metrics: Mapping[str, float] | None, metric: str) -> float | None:
    value = None if metrics is None else metrics.get(metric)
    return None if value is None or math.isnan(value) else float(value)


def _check(
    metric: str, conditions: dict[str, float], value: float | None, base: float | None
) -> MetricCheck:
    delta = None if value is None or base is None else value - base
    outcomes = [_condition(metric, key, limit, value, base) for key, limit in conditions.items()]
    failures = [text for held, text in outcomes if not held]
    reason = "; ".join(failures or [text for _, text in outcomes])
    return MetricCheck(metric, value, base, delta, not failures, reason)


def _condition(
    metric: str, key: str, limit: float, value: float | None, base: float | None
) -> tuple[bool, str]:
    """Whether one condition holds, and a sentence saying so."""
    if value is None:
        return False, f"{metric} is missing or undefined (NaN)"
    if key == "min_value":
        return value >= limit, f"{metric} {value:.6g} {_vs(value >= limit)} min_value {limit:g}"
    if key == "max_value":
        return (
            value <= limit,
            f"{metric} {value:.6g} {_vs(value <= limit, '≤', '>')} max_value {limit:g}",
        )
    if base is None:
        return False, f"the baseline's {metric} is missing or undefined (NaN)"
    gain = value - base if higher_is_better(metric) else base - value
    held = gain >= limit if key == "min_delta" else -gain <= limit
    change = f"better by {gain:.6g}" if gain >= 0 else f"worse by {-gain:.6g}"
    return held, f"{metric} {value:.6g} vs baseline {base:.6g}: {change} ({key} {limit:g})"


def _vs(held: bool, ok: str = "≥", not_ok: str = "<") -> str:
    return ok if held else not_ok
