"""What the rollout page shows of a rollout: its risk, its plan's stages with the current one
marked, each decision with the figures it read (the candidate against the primary), and the
candidate's share of live traffic over time replayed from the decisions. Risks and figures
are stored JSON: a part of another shape shows as missing, never as an error."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from gnomon.automation.entities import Decision, Rollout
from gnomon.automation.traffic import weight_after, weight_history
from gnomon.tracking.html import format_value
from gnomon.ui.monitor_views import listed, mapping
from gnomon.ui.time_charts import time_chart

MAX_CHANGES = 50  # a risk's changes shown
MAX_FIGURES_TEXT = 500  # characters of figures of an unknown shape
MISSING = "—"
# Badge classes (app.css) for states, actions and firing statuses.
STATE_BADGES = {
    "running": "running",
    "awaiting_approval": "pending",
    "promoted": "finished",
    "rolled_back": "failed",
    "aborted": "killed",
}
ACTION_BADGES = {
    "start": "running",
    "advance": "ok",
    "approve": "ok",
    "extend": "pending",
    "hold": "pending",
    "promote": "finished",
    "rollback": "failed",
    "abort": "killed",
}


@dataclass(frozen=True, slots=True)
class StageRow:
    index: int
    label: str
    hold_s: float
    min_requests: int
    where: str  # "done", "now", "next", or "stopped" (where a rollback or abort ended it)


@dataclass(frozen=True, slots=True)
class FigureRow:
    """One figure a decision read, as text: the candidate's and the primary's."""

    name: str
    candidate: str
    primary: str


@dataclass(frozen=True, slots=True)
class DecisionRow:
    decision: Decision
    stage: str  # the stage it was taken at
    weight: int  # the candidate's share of live traffic after it, percent
    figures: tuple[FigureRow, ...]
    agreement: str | None  # a shadow's answers compared with the primary's
    other: str | None  # figures of another shape, as JSON text


def state_words(rollout: Rollout) -> str:
    current = rollout.current
    if rollout.state == "running" and current is not None:
        return f"running ({current.describe()})"
    return rollout.state.replace("_", " ")


def stage_rows(rollout: Rollout) -> list[StageRow]:
    return [
        StageRow(i, stage.describe(), stage.hold_s, stage.min_requests, _where(rollout, i))
        for i, stage in enumerate(rollout.plan.stages)
    ]


def _where(rollout: Rollout, index: int) -> str:
    if index < rollout.stage:
        return "done"
    if index > rollout.stage:
        return "next"
    if rollout.state == "promoted":
        return "done"
    return "stopped" if rollout.ended else "now"


def risk_changes(risk: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The risk's changes (kind, level, reason), riskiest first as stored."""
    return [mapping(c) for c in listed(risk.get("changes"))[:MAX_CHANGES]]


def decision_rows(rollout: Rollout, limit: int) -> list[DecisionRow]:
    """The newest ``limit`` decisions, oldest first."""
    stages = rollout.plan.stages
    rows = []
    for d in rollout.decisions[-limit:]:
        label = stages[d.stage].describe() if 0 <= d.stage < len(stages) else str(d.stage)
        figures, agreement = _evidence(d.figures, rollout.plan.metric)
        other = None
        if not figures and agreement is None:
            rest = {k: v for k, v in d.figures.items() if k != "risk"}  # risk: shown above
            other = _json(rest) if rest else None
        rows.append(DecisionRow(d, label, weight_after(rollout.plan, d), figures, agreement, other))
    return rows


def _evidence(figures: Mapping[str, Any], metric: str) -> tuple[tuple[FigureRow, ...], str | None]:
    """The controller's evidence (``Evidence.to_dict``) as rows; nothing for other shapes."""
    candidate, primary = mapping(figures.get("candidate")), mapping(figures.get("primary"))
    rows: list[FigureRow] = []
    if candidate or primary:
        rows = [
            FigureRow(
                "answers", number(candidate.get("answered")), number(primary.get("answered"))
            ),
            FigureRow("failures", _failures(candidate), _failures(primary)),
            FigureRow("p99 ms", number(candidate.get("p99_ms")), number(primary.get("p99_ms"))),
            FigureRow(f"{metric} on outcomes", _metric(candidate), _metric(primary)),
        ]
    compared = figures.get("compared")
    agreement = None
    if isinstance(compared, int) and compared > 0:
        share = figures.get("agreement")
        agreement = f"{_percent(share)} of {compared} compared answers agree"
    return tuple(rows), agreement


def share_chart(rollout: Rollout, now: int) -> dict[str, Any] | None:
    """The candidate's share of live traffic as steps from decision to decision, up to now
    (a running rollout) or its last decision; None with fewer than two points in time."""
    history = weight_history(rollout)
    if not history:
        return None
    end = history[-1][0] if rollout.ended else max(now, history[-1][0])
    times: list[int] = []
    values: list[float | None] = []
    for at, weight in history:
        if times and at - 1 > times[-1]:
            times.append(at - 1)  # a step, not a ramp: the previous share until just before
            values.append(values[-1])
        times.append(at)
        values.append(float(weight))
    if end > times[-1]:
        times.append(end)
        values.append(values[-1])
    if len(times) < 2:
        return None
    return time_chart("share", {"candidate %": (times, values)}, title="Candidate's share (%)")


def number(value: object) -> str:
    """A stored figure as text: a number, else missing (a bool is no number here)."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return MISSING
    return format_value(value)


def _failures(arm: Mapping[str, Any]) -> str:
    failed = arm.get("failed")
    if not isinstance(failed, int):
        return MISSING
    return f"{failed} ({_percent(arm.get('error_rate'))})"


def _metric(arm: Mapping[str, Any]) -> str:
    labelled = arm.get("labelled")
    value = number(arm.get("metric"))
    return f"{value} ({labelled} labelled)" if isinstance(labelled, int) else value


def _percent(share: object) -> str:
    if not isinstance(share, int | float) or isinstance(share, bool) or not math.isfinite(share):
        return MISSING
    return f"{100 * share:.3g}%"


def _json(value: object) -> str:
    text = orjson.dumps(value, default=str).decode()
    return text if len(text) <= MAX_FIGURES_TEXT else text[:MAX_FIGURES_TEXT] + "…"


__all__ = [
    "ACTION_BADGES",
    "MISSING",
    "STATE_BADGES",
    "DecisionRow",
    "FigureRow",
    "StageRow",
    "decision_rows",
    "number",
    "risk_changes",
    "share_chart",
    "stage_rows",
    "state_words",
]
