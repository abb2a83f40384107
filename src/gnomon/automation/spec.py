"""A policy's spec: what it retrains, how the candidate is judged, how it is rolled out.

Written by people (a YAML file, a dict in Python), so every field is checked here with a
message naming it, and every number is bounded. Durations are seconds or ``"90s"``,
``"5m"``, ``"2h"``, ``"1d"``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from gnomon.errors import InvalidInput
from gnomon.tracking.validation import check_name

RISKS = ("low", "medium", "high")
STRATEGIES = ("direct", "canary", "shadow")
MODEL_TYPES = ("classifier", "regressor")
MAX_DURATION_S = 30 * 86_400
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


def duration(what: str, value: object, low: float = 0) -> float:
    """Seconds from a number or ``"5m"``-style text, within [low, 30 days]."""
    if isinstance(value, str):
        found = _DURATION.fullmatch(value.strip())
        if found is None:
            raise InvalidInput(
                f"{what} is seconds or a duration like '90s', '5m', '2h', '1d', not {value[:40]!r}"
            )
        seconds = float(found[1]) * _UNITS[found[2]]
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:  # an int past 1e308
            seconds = math.inf
    else:
        raise InvalidInput(f"{what} is seconds or a duration like '5m', not {value!r}")
    if not math.isfinite(seconds) or not low <= seconds <= MAX_DURATION_S:
        raise InvalidInput(f"{what} must be from {low:g} s to 30 days, not {value!r}")
    return seconds


def number(what: str, value: object, low: float, high: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        raise InvalidInput(f"{what} must be a number, not {value!r}")
    if not low <= value <= high:
        raise InvalidInput(f"{what} must be from {low:g} to {high:g}, not {value!r}")
    return float(value)


def whole(what: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{what} must be a whole number from {low} to {high}, not {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class GateSpec:
    """The candidate against the champion: on ``holdout`` (a dataset, ``NAME@V`` or the
    latest of ``NAME``) and on the deployment's recent labelled records."""

    target: str
    holdout: str | None = None
    model_type: str = "classifier"
    thresholds: dict[str, Any] = field(default_factory=dict)
    production_window_s: float = 86_400.0
    min_production_rows: int = 50


@dataclass(frozen=True, slots=True)
class Limits:
    """What a live arm is held to, against the primary over the same window."""

    max_error_rate: float = 0.01  # failed answers over all answers
    max_p99_ratio: float = 2.0  # candidate p99 latency over the primary's
    max_metric_drop: float | None = 0.02  # on outcomes: the gate's metric, worse by at most
    min_agreement: float = 0.9  # shadow: share of answers equal to the primary's


@dataclass(frozen=True, slots=True)
class RolloutSpec:
    """Risk → strategy, and the stages each strategy takes."""

    strategies: dict[str, str] = field(
        default_factory=lambda: {"low": "direct", "medium": "canary", "high": "shadow"}
    )
    canary_steps: tuple[int, ...] = (10, 50)
    hold_s: float = 300.0
    min_requests: int = 100  # answers of the candidate a stage needs before it may advance
    shadow_requests: int = 200
    shadow_max_s: float = 900.0
    approval: tuple[str, ...] = ()  # risk levels that wait for `gnomon rollout approve`
    smoke_rows: int = 20
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True, slots=True)
class PolicySpec:
    model: str
    deployment: str
    gate: GateSpec
    rollout: RolloutSpec = field(default_factory=RolloutSpec)
    champion_alias: str = "production"
    cooldown_s: float = 3600.0
    # An open firing untouched this long was left by a worker that died: it no longer
    # blocks the next one.
    stale_s: float = 86_400.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicySpec:
        """The spec as stored (``to_dict``), checked again: a bad row is refused, not run."""
        return parse_spec(data)


def parse_spec(data: Mapping[str, Any]) -> PolicySpec:
    """A ``PolicySpec`` from the user's mapping (the YAML's fields but ``name``, ``pipeline``,
    ``params`` and ``triggers``, which the schedule holds)."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"a policy is a mapping of fields, not {type(data).__name__}")
    _known(
        data,
        "policy",
        {
            "model",
            "deployment",
            "gate",
            "rollout",
            "champion_alias",
            "cooldown_s",
            "cooldown",
            "stale_s",
        },
    )
    model = check_name("model", data.get("model"))
    deployment = check_name("deployment", data.get("deployment"))
    alias = check_name("alias", data.get("champion_alias", "production"))
    cooldown = duration("cooldown", data.get("cooldown", data.get("cooldown_s", 3600)))
    stale = duration("stale_s", data.get("stale_s", 86_400), low=60)
    gate = _gate(data.get("gate"))
    rollout = _rollout(data.get("rollout") or {})
    return PolicySpec(model, deployment, gate, rollout, alias, cooldown, stale)


def _known(data: Mapping[str, Any], what: str, known: set[str]) -> None:
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise InvalidInput(
            f"{what} has no field {unknown[0][:60]!r}; it has {', '.join(sorted(known))}"
        )


def _gate(data: object) -> GateSpec:
    if not isinstance(data, Mapping):
        raise InvalidInput("a policy needs a gate: {target: COLUMN, holdout: DATASET@V, ...}")
    _known(
        data,
        "gate",
        {
            "target",
            "holdout",
            "model_type",
            "thresholds",
            "production_window_s",
            "production_window",
            "min_production_rows",
        },
    )
    target = data.get("target")
    if not isinstance(target, str) or not target or len(target) > 256:
        raise InvalidInput(f"gate.target is the label column's name, not {target!r}")
    holdout = data.get("holdout")
    if holdout is not None:
        holdout = check_name("holdout dataset", holdout)
    model_type = data.get("model_type", "classifier")
    if model_type not in MODEL_TYPES:
        raise InvalidInput(
            f"gate.model_type is one of {', '.join(MODEL_TYPES)}, not {model_type!r}"
        )
    thresholds = data.get("thresholds") or {}
    if not isinstance(thresholds, Mapping) or len(thresholds) > 32:
        raise InvalidInput("gate.thresholds map up to 32 metrics to a bound or conditions")
    window = duration(
        "gate.production_window",
        data.get("production_window", data.get("production_window_s", 86_400)),
        low=1,
    )
    rows = whole("gate.min_production_rows", data.get("min_production_rows", 50), 1, 1_000_000)
    return GateSpec(target, holdout, model_type, dict(thresholds), window, rows)


def _rollout(data: object) -> RolloutSpec:
    if not isinstance(data, Mapping):
        raise InvalidInput(f"rollout is a mapping, not {type(data).__name__}")
    fields = {
        "low",
        "medium",
        "high",
        "strategies",
        "canary_steps",
        "hold",
        "hold_s",
        "min_requests",
        "shadow",
        "shadow_requests",
        "shadow_max_s",
        "approval",
        "smoke_rows",
        "limits",
    }
    _known(data, "rollout", fields)
    given = data.get("strategies") or {}
    if not isinstance(given, Mapping):
        raise InvalidInput(
            f"rollout.strategies maps risk levels (low, medium, high) to a strategy, not {given!r}"
        )
    strategies = {"low": "direct", "medium": "canary", "high": "shadow", **given}
    for risk in RISKS:
        strategies[risk] = data.get(risk, strategies[risk])
        if strategies[risk] not in STRATEGIES:
            raise InvalidInput(
                f"rollout.{risk} is one of {', '.join(STRATEGIES)}, not {strategies[risk]!r}"
            )
    if set(strategies) - set(RISKS):
        raise InvalidInput(f"rollout strategies are given for {', '.join(RISKS)} only")
    steps = data.get("canary_steps", [10, 50])
    if not isinstance(steps, list | tuple) or not 1 <= len(steps) <= 10:
        raise InvalidInput("rollout.canary_steps is a list of 1 to 10 percentages, e.g. [10, 50]")
    weights = tuple(whole("rollout.canary_steps", w, 1, 99) for w in steps)
    if list(weights) != sorted(set(weights)):
        raise InvalidInput(f"rollout.canary_steps must rise, not {list(weights)}")
    hold = duration("rollout.hold", data.get("hold", data.get("hold_s", 300)), low=1)
    minimum = whole("rollout.min_requests", data.get("min_requests", 100), 1, 10_000_000)
    shadow = data.get("shadow") or {}
    if not isinstance(shadow, Mapping):
        raise InvalidInput("rollout.shadow is {requests: N, max_time: DURATION}")
    _known(shadow, "rollout.shadow", {"requests", "max_time"})
    shadow_requests = whole(
        "rollout.shadow.requests",
        shadow.get("requests", data.get("shadow_requests", 200)),
        1,
        10_000_000,
    )
    shadow_max = duration(
        "rollout.shadow.max_time", shadow.get("max_time", data.get("shadow_max_s", 900)), low=1
    )
    approval = data.get("approval") or []
    if isinstance(approval, str):
        approval = [approval]
    if not isinstance(approval, list | tuple) or any(a not in RISKS for a in approval):
        raise InvalidInput(
            f"rollout.approval lists risk levels ({', '.join(RISKS)}), not {approval!r}"
        )
    smoke = whole("rollout.smoke_rows", data.get("smoke_rows", 20), 1, 10_000)
    limits = _limits(data.get("limits") or {})
    return RolloutSpec(
        strategies,
        weights,
        hold,
        minimum,
        shadow_requests,
        shadow_max,
        tuple(approval),
        smoke,
        limits,
    )


def _limits(data: object) -> Limits:
    if not isinstance(data, Mapping):
        raise InvalidInput("rollout.limits is a mapping")
    _known(
        data,
        "rollout.limits",
        {"max_error_rate", "max_p99_ratio", "max_metric_drop", "min_agreement"},
    )
    drop = data.get("max_metric_drop", 0.02)
    return Limits(
        number("rollout.limits.max_error_rate", data.get("max_error_rate", 0.01), 0, 1),
        number("rollout.limits.max_p99_ratio", data.get("max_p99_ratio", 2.0), 1, 1000),
        None if drop is None else number("rollout.limits.max_metric_drop", drop, 0, 1e12),
        number("rollout.limits.min_agreement", data.get("min_agreement", 0.9), 0, 1),
    )


__all__ = ["GateSpec", "Limits", "PolicySpec", "RolloutSpec", "duration", "parse_spec"]
