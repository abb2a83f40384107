"""Rollouts as Prometheus metrics, for ``GET /api/v1/metrics/rollouts``.

Per recent rollout (running, or changed in the last ``RECENT_MS``; the newest
``MAX_ROLLOUTS``), labelled by workspace, deployment, model and candidate version:

- ``gnomon_rollout_state``: 0 running, 1 awaiting approval, 2 promoted, 3 rolled back,
  4 aborted (:data:`STATE_VALUES`);
- ``gnomon_rollout_stage``: the index of its current stage in its plan (0: the smoke test);
- ``gnomon_rollout_candidate_weight``: the candidate's share of live traffic, in percent.

And ``gnomon_rollout_decisions_total``, a counter of the decisions every rollout of a
deployment recorded, by action, over all time (decisions are never deleted, so it only
grows): ``increase()`` over it shows the controller's decisions on a dashboard.

Like the monitors' figures, these name the workspaces' deployments and models, so the route
wants a global admin's token; a read that fails leaves the scrape without samples.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import orjson
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import desc, func, or_, select

from gnomon._types import now_ms
from gnomon.automation.entities import Plan
from gnomon.automation.tables import decisions, rollouts
from gnomon.automation.traffic import candidate_weight
from gnomon.monitoring.prometheus import MAX_LABEL_CHARS, MetricSpec
from gnomon.store.database import Database

logger = logging.getLogger("gnomon.automation")

RECENT_MS = 7 * 86_400_000
MAX_ROLLOUTS = 1000
MAX_DECISION_SERIES = 5000  # (workspace, deployment, action): deployments times 8 actions
ROLLOUT_LABELS = ("workspace", "deployment", "model", "candidate")
STATE_VALUES = {"running": 0, "awaiting_approval": 1, "promoted": 2, "rolled_back": 3, "aborted": 4}

STATE = MetricSpec(
    "gnomon_rollout_state",
    "Rollout state: 0 running, 1 awaiting approval, 2 promoted, 3 rolled back, 4 aborted",
    ROLLOUT_LABELS,
)
STAGE = MetricSpec(
    "gnomon_rollout_stage", "Index of the rollout's current stage in its plan", ROLLOUT_LABELS
)
WEIGHT = MetricSpec(
    "gnomon_rollout_candidate_weight",
    "The candidate's share of live traffic, percent",
    ROLLOUT_LABELS,
)
# A counter: exposed as gnomon_rollout_decisions_total.
DECISIONS = MetricSpec(
    "gnomon_rollout_decisions",
    "Decisions rollouts recorded, by action",
    ("workspace", "deployment", "action"),
)
GAUGES = (STATE, STAGE, WEIGHT)
EXPORTED: tuple[MetricSpec, ...] = (*GAUGES, DECISIONS)


@dataclass(frozen=True, slots=True)
class RolloutGauges:
    """One rollout's gauges and their labels."""

    workspace: str
    deployment: str
    model: str
    candidate: int
    state: str
    stage: int
    weight: int


@dataclass(frozen=True, slots=True)
class DecisionCount:
    workspace: str
    deployment: str
    action: str
    count: int


@dataclass(frozen=True, slots=True)
class RolloutFigures:
    rollouts: tuple[RolloutGauges, ...] = ()
    decisions: tuple[DecisionCount, ...] = ()


class RolloutCollector(Collector):
    """Exports what ``read`` returns, called once per scrape (it may raise: that scrape
    then carries no rollout samples, and the error is logged)."""

    def __init__(self, read: Callable[[], RolloutFigures]) -> None:
        self._read = read

    def describe(self) -> Iterable[Metric]:
        return list(_families().values())

    def collect(self) -> Iterable[Metric]:
        try:
            return list(_filled(self._read()).values())
        except Exception:
            logger.exception("reading the rollouts failed; none exported")
            return list(_families().values())


def _families() -> dict[str, GaugeMetricFamily | CounterMetricFamily]:
    families: dict[str, GaugeMetricFamily | CounterMetricFamily] = {
        spec.name: GaugeMetricFamily(spec.name, spec.help, labels=spec.labels) for spec in GAUGES
    }
    families[DECISIONS.name] = CounterMetricFamily(
        DECISIONS.name, DECISIONS.help, labels=DECISIONS.labels
    )
    return families


def _filled(figures: RolloutFigures) -> dict[str, GaugeMetricFamily | CounterMetricFamily]:
    families = _families()
    seen: set[tuple[str, ...]] = set()
    for r in figures.rollouts:
        labels = _labels(r.workspace, r.deployment, r.model, str(r.candidate))
        if labels in seen:
            continue  # the same candidate rolled out again: the newest (listed first) counts
        seen.add(labels)
        families[STATE.name].add_metric(labels, STATE_VALUES.get(r.state, -1))
        families[STAGE.name].add_metric(labels, r.stage)
        families[WEIGHT.name].add_metric(labels, r.weight)
    for d in figures.decisions:
        families[DECISIONS.name].add_metric(_labels(d.workspace, d.deployment, d.action), d.count)
    return families


def _labels(*values: str) -> tuple[str, ...]:
    return tuple(v[:MAX_LABEL_CHARS] for v in values)


def read_figures(db: Database, now: int | None = None) -> RolloutFigures:
    """Every workspace's recent rollouts and all their deployments' decision counts."""
    from gnomon.auth.tables import workspaces

    since = (now_ms() if now is None else now) - RECENT_MS
    r, d = rollouts.c, decisions.c
    recent = (
        select(r.workspace_id, r.deployment, r.model, r.candidate_version, r.state, r.stage, r.plan)
        .where(or_(r.active.is_not(None), r.updated_ms >= since))
        .order_by(desc(r.created_ms), desc(r.id))
        .limit(MAX_ROLLOUTS)
    )
    counted = (
        select(r.workspace_id, r.deployment, d.action, func.count())
        .select_from(decisions.join(rollouts, r.id == d.rollout_id))
        .group_by(r.workspace_id, r.deployment, d.action)
        .order_by(r.workspace_id, r.deployment, d.action)
        .limit(MAX_DECISION_SERIES)
    )
    with db.read() as conn:
        names = dict(conn.execute(select(workspaces.c.id, workspaces.c.name)).all())
        found = conn.execute(recent).all()
        counts = conn.execute(counted).all()
    gauges = tuple(
        RolloutGauges(
            names.get(row.workspace_id, row.workspace_id),
            row.deployment,
            row.model,
            row.candidate_version,
            row.state,
            row.stage,
            candidate_weight(Plan.from_dict(orjson.loads(row.plan)), row.stage, row.state),
        )
        for row in found
    )
    return RolloutFigures(
        gauges,
        tuple(DecisionCount(names.get(w, w), dep, action, n) for w, dep, action, n in counts),
    )


def exposition(db: Database) -> bytes:
    registry = CollectorRegistry()
    registry.register(RolloutCollector(lambda: read_figures(db)))
    return generate_latest(registry)


__all__ = [
    "DECISIONS",
    "EXPORTED",
    "GAUGES",
    "MAX_ROLLOUTS",
    "RECENT_MS",
    "STAGE",
    "STATE",
    "STATE_VALUES",
    "WEIGHT",
    "DecisionCount",
    "RolloutCollector",
    "RolloutFigures",
    "RolloutGauges",
    "exposition",
    "read_figures",
]
