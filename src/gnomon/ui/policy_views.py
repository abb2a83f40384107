"""What the policy pages show: a policy's spec as rows a person reads, and each firing's gate
as one table per source (the holdout, the labelled production records) with both sides'
metrics. Gates are stored JSON: a part of another shape shows as missing, never as an error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from gnomon.automation.entities import Policy
from gnomon.automation.spec import Limits
from gnomon.tracking.html import format_value
from gnomon.ui.monitor_views import listed, mapping
from gnomon.ui.render import duration
from gnomon.ui.rollout_views import MISSING, number

MAX_METRICS = 30  # per gate source
MAX_REASONS = 20
SOURCES = ("holdout", "production")
FIRING_BADGES = {
    "retraining": "running",
    "gating": "running",
    "rolling_out": "running",
    "rejected": "failed",
    "promoted": "finished",
    "rolled_back": "failed",
    "aborted": "killed",
    "failed": "failed",
    "no_candidate": "skipped",
}


@dataclass(frozen=True, slots=True)
class GateSource:
    """One source the gate judged on: its verdict (None: skipped, and why) and metrics."""

    name: str
    source: str
    rows: str
    passed: bool | None
    skipped: str | None
    metrics: tuple[tuple[str, str, str], ...]  # (metric, candidate, champion)
    metrics_left_out: int
    reasons: tuple[str, ...]


def spec_rows(policy: Policy) -> list[tuple[str, str]]:
    """The policy's spec as (what, value) rows."""
    spec, gate, rollout = policy.spec, policy.spec.gate, policy.spec.rollout
    strategies = ", ".join(f"{risk} risk → {how}" for risk, how in rollout.strategies.items())
    return [
        ("Model", spec.model),
        ("Deployment", spec.deployment),
        ("Champion alias", spec.champion_alias),
        ("Cool-down", _seconds(spec.cooldown_s)),
        ("Gate target", gate.target),
        ("Holdout", gate.holdout or "none"),
        ("Model type", gate.model_type),
        ("Thresholds", _json(gate.thresholds) if gate.thresholds else "none"),
        (
            "Production records",
            f"at least {gate.min_production_rows} labelled in the last "
            f"{_seconds(gate.production_window_s)}",
        ),
        ("Strategies", strategies),
        ("Canary steps", ", ".join(f"{w}%" for w in rollout.canary_steps) or "none"),
        (
            "Each step",
            f"held {_seconds(rollout.hold_s)}, {rollout.min_requests} candidate answers",
        ),
        (
            "Shadow",
            f"{rollout.shadow_requests} compared answers, at most {_seconds(rollout.shadow_max_s)}",
        ),
        ("Approval", ", ".join(rollout.approval) + " risk" if rollout.approval else "never"),
        ("Smoke test", f"{rollout.smoke_rows} rows"),
        ("Limits", limits_words(rollout.limits)),
    ]


def limits_words(limits: Limits) -> str:
    drop = limits.max_metric_drop
    return (
        f"error rate at most {format_value(limits.max_error_rate)}, p99 at most "
        f"{format_value(limits.max_p99_ratio)} times the primary's, metric drop at most "
        f"{MISSING if drop is None else format_value(drop)}, shadow agreement at least "
        f"{format_value(limits.min_agreement)}"
    )


def gate_sources(gate: Mapping[str, Any] | None) -> list[GateSource]:
    """The gate's sources, as judged or skipped; none when the firing has no gate yet."""
    if not gate:
        return []
    return [_source(name, mapping(gate.get(name))) for name in SOURCES if name in gate]


def _source(name: str, data: Mapping[str, Any]) -> GateSource:
    skipped = data.get("skipped")
    if skipped is not None:
        return GateSource(name, "", MISSING, None, str(skipped), (), 0, ())
    candidate, champion = mapping(data.get("metrics")), mapping(data.get("champion_metrics"))
    names = [*candidate, *(k for k in champion if k not in candidate)]
    metrics = tuple(
        (str(k), number(candidate.get(k)), number(champion.get(k))) for k in names[:MAX_METRICS]
    )
    passed = data.get("passed")
    return GateSource(
        name,
        str(data.get("source", "")),
        number(data.get("rows")),
        passed if isinstance(passed, bool) else None,
        None if isinstance(passed, bool) else "no verdict recorded",
        metrics,
        max(len(names) - MAX_METRICS, 0),
        tuple(str(r) for r in listed(data.get("reasons"))[:MAX_REASONS]),
    )


def _seconds(seconds: float) -> str:
    return duration(int(seconds * 1000))


def _json(value: object) -> str:
    return orjson.dumps(value, default=str).decode()[:500]


__all__ = ["FIRING_BADGES", "GateSource", "gate_sources", "limits_words", "spec_rows"]
