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

A metric's direction is guessed from its name by the rule run comparisons use
(:func:`gnomon.tracking.comparison.lower_is_better`: ``loss``, ``error``, ``rmse``... are
better when lower); ``"higher_is_better": False`` (or ``True``) beside a metric's conditions
says it outright, for a name the rule gets wrong.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

from gnomon.errors import InvalidInput
from gnomon.suggestions import did_you_mean
from gnomon.tracking.comparison import lower_is_better

THRESHOLD_KEYS: Final = ("min_value", "max_value", "min_delta", "max_delta")
DIRECTION_KEY: Final = "higher_is_better"  # beside the conditions, not one of them
_NEEDS_BASELINE: Final = frozenset({"min_delta", "max_delta"})

Thresholds = Mapping[str, Mapping[str, float | bool]]


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
) -> dict[str, dict[str, float | bool]]:
    """A plain copy of ``thresholds`` after checking every metric, key and value.

    Raises:
        InvalidInput: not a mapping, a metric outside ``known``, an unknown condition, a value
            that is not a finite number, a direction that is not a bool, no condition on a
            metric, or a delta condition without a baseline.
    """
    if not isinstance(thresholds, Mapping):
        raise InvalidInput(f"thresholds must be a dict of metric → conditions, got {thresholds!r}")
    checked: dict[str, dict[str, float | bool]] = {}
    for metric, conditions in thresholds.items():
        if metric not in known:
            raise InvalidInput(
                f"thresholds name unknown metric {metric!r}{did_you_mean(str(metric), known)} "
                f"(metrics: {', '.join(known)})",
                {"metric": str(metric)},
            )
        checked[metric] = _conditions(metric, conditions, has_baseline)
    return checked


def _conditions(metric: str, conditions: object, has_baseline: bool) -> dict[str, float | bool]:
    if not isinstance(conditions, Mapping) or not conditions:
        raise InvalidInput(
            f"thresholds for {metric!r} must be a non-empty dict such as "
            f"{{'min_delta': 0.0}}, got {conditions!r}",
            {"metric": metric},
        )
    out: dict[str, float | bool] = {}
    for key, value in conditions.items():
        if key == DIRECTION_KEY:
            out[key] = _direction(metric, value)
            continue
        if key not in THRESHOLD_KEYS:
            keys = (*THRESHOLD_KEYS, DIRECTION_KEY)
            raise InvalidInput(
                f"unknown threshold {key!r} for {metric!r}{did_you_mean(str(key), keys)}"
                f" (conditions: {', '.join(THRESHOLD_KEYS)}; direction: {DIRECTION_KEY})",
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
    if DIRECTION_KEY in out and len(out) == 1:
        raise InvalidInput(
            f"thresholds for {metric!r} give a direction but no condition: add one of "
            f"{', '.join(THRESHOLD_KEYS)}",
            {"metric": metric},
        )
    return out


def _direction(metric: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(
            f"{DIRECTION_KEY} of {metric!r} must be True or False, got {value!r}",
            {"metric": metric, "key": DIRECTION_KEY},
        )
    return value


def judge(
    candidate: Mapping[str, float],
    thresholds: Thresholds,
    baseline: Mapping[str, float] | None = None,
) -> Verdict:
    """Judge ``candidate``'s metrics (and the ``baseline``'s, for delta conditions) against
    ``thresholds``. A metric that is missing or NaN fails every condition on it. Deltas go
    the metric's way: lower is better for a name the shared rule knows (``val_loss``,
    ``error_rate``, ``rmse``), or where the conditions say ``"higher_is_better": False``.

    Example:
        >>> judge({"f1": 0.84}, {"f1": {"min_delta": 0.0}}, baseline={"f1": 0.81}).passed
        True
        >>> rule = {"false_alarms": {"max_delta": 0, "higher_is_better": False}}
        >>> judge({"false_alarms": 4}, rule, baseline={"false_alarms": 3}).passed
        False

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
    metric: str, conditions: dict[str, float | bool], value: float | None, base: float | None
) -> MetricCheck:
    delta = None if value is None or base is None else value - base
    stated = conditions.get(DIRECTION_KEY)
    higher = not lower_is_better(metric) if stated is None else bool(stated)
    outcomes = [
        _condition(metric, key, limit, value, base, higher)
        for key, limit in conditions.items()
        if key != DIRECTION_KEY
    ]
    failures = [text for held, text in outcomes if not held]
    reason = "; ".join(failures or [text for _, text in outcomes])
    return MetricCheck(metric, value, base, delta, not failures, reason)


def _condition(
    metric: str, key: str, limit: float, value: float | None, base: float | None, higher: bool
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
    gain = value - base if higher else base - value
    held = gain >= limit if key == "min_delta" else -gain <= limit
    change = f"better by {gain:.6g}" if gain >= 0 else f"worse by {-gain:.6g}"
    way = "" if higher else " (lower is better)"
    return held, f"{metric} {value:.6g} vs baseline {base:.6g}{way}: {change} ({key} {limit:g})"


def _vs(held: bool, ok: str = "≥", not_ok: str = "<") -> str:
    return ok if held else not_ok
