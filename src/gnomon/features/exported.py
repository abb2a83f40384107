"""Online feature freshness as Prometheus metrics, for ``GET /api/v1/metrics/features``.

Read from the online store when scraped, per workspace and live view:

- ``gnomon_feature_age_seconds``: the age of the newest value stored for the view (from its
  materialisations and pushes); a view with nothing stored has no sample. A view whose
  materialisation stopped grows here, whether or not anything looks it up.
- ``gnomon_feature_stale_total``: the values lookups through the API server's online route
  found older than the view's TTL (answered as missing). The route adds them up in the
  store (``OnlineStore.count_stale``), so every worker and every server replica sharing the
  store adds to one figure, and a restart loses none.

Like the monitors' and the rollouts' figures these name the workspaces and their views, so
they are not on the public ``/metrics``: the route wants a global admin's token. At most
``MAX_VIEWS_PER_WORKSPACE`` views of a workspace (the first by name) and ``MAX_VIEWS`` in all
are exported, every workspace's first views before any's later ones; a read that fails leaves
that scrape without samples, and the error is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from gnomon._types import now_ms
from gnomon.features.online import OnlineStore, OnlineView
from gnomon.features.specs import catalog_of
from gnomon.features.tables import feature_definitions
from gnomon.store.database import Database

logger = logging.getLogger("gnomon.features")

MAX_VIEWS = 5000  # views a scrape reads: two store reads and two series each
MAX_VIEWS_PER_WORKSPACE = 500
MAX_LABEL_CHARS = 200  # as the monitors' and the rollouts' exporters
LABELS = ("workspace", "view")
STALE = "gnomon_feature_stale"  # a counter: exposed as gnomon_feature_stale_total
AGE = "gnomon_feature_age_seconds"
HELP = {
    STALE: "Online feature values lookups through the API server found expired (served as missing)",
    AGE: "Age of the newest online value stored for the view (its freshness)",
}


@dataclass(frozen=True, slots=True)
class ViewFreshness:
    """One live view of one workspace (by name), as its online store has it."""

    workspace: str
    view: str
    stale: int
    age: float | None  # seconds; None: nothing stored yet


def read_figures(db: Database, store: OnlineStore, now: int | None = None) -> list[ViewFreshness]:
    """Every workspace's live views, with their stored freshness and stale count."""
    from gnomon.auth.tables import workspaces

    d = feature_definitions.c
    with db.read() as conn:
        names = dict(conn.execute(select(workspaces.c.id, workspaces.c.name)).all())
        # Each workspace's first views only: one workspace's editors cannot crowd the others'
        # out of the scrape.
        numbered = (
            select(
                d.workspace_id,
                d.name,
                func.row_number().over(partition_by=d.workspace_id, order_by=d.name).label("n"),
            )
            .where(d.kind == "view")
            .subquery()
        )
        viewed = (
            select(numbered.c.workspace_id, numbered.c.name)
            .where(numbered.c.n <= MAX_VIEWS_PER_WORKSPACE)
            .order_by(numbered.c.n, numbered.c.workspace_id)
            .limit(MAX_VIEWS)
        )
        wanted = sorted(conn.execute(viewed).all())
        rows = conn.execute(
            select(d.workspace_id, d.kind, d.name, d.spec).where(
                d.workspace_id.in_({w for w, _ in wanted}), d.kind != "service"
            )
        ).all()
    specs: dict[str, dict[tuple[Any, str], dict[str, Any]]] = {}
    for workspace, kind, name, spec in rows:
        specs.setdefault(workspace, {})[(kind, name)] = orjson.loads(spec)
    catalogs = {workspace: catalog_of(found) for workspace, found in specs.items()}
    at = now_ms() if now is None else now
    figures = []
    for workspace, name in wanted:
        catalog = catalogs[workspace]
        view = catalog.view(name)
        online = OnlineView.of(view, catalog.join_keys(view))
        newest = store.freshness(workspace, online)
        age = None if newest is None else max(0.0, (at - newest) / 1000)
        stale = store.stale_total(workspace, online)
        figures.append(ViewFreshness(names.get(workspace, workspace), name, stale, age))
    return figures


class FreshnessCollector(Collector):
    """Exports what ``read`` returns, called once per scrape (it may raise: that scrape then
    carries no feature samples, and the error is logged)."""

    def __init__(self, read: Callable[[], Iterable[ViewFreshness]]) -> None:
        self._read = read

    def describe(self) -> Iterable[Metric]:
        return list(_families())

    def collect(self) -> Iterable[Metric]:
        try:
            return list(_filled(self._read()))
        except Exception:
            logger.exception("reading the feature freshness failed; none exported")
            return list(_families())


def _families() -> tuple[CounterMetricFamily, GaugeMetricFamily]:
    return (
        CounterMetricFamily(STALE, HELP[STALE], labels=LABELS),
        GaugeMetricFamily(AGE, HELP[AGE], labels=LABELS),
    )


def _filled(figures: Iterable[ViewFreshness]) -> tuple[CounterMetricFamily, GaugeMetricFamily]:
    stale, age = _families()
    seen: set[tuple[str, str]] = set()
    for f in figures:
        labels = (f.workspace[:MAX_LABEL_CHARS], f.view[:MAX_LABEL_CHARS])
        if labels in seen:
            continue  # two names alike in their first characters: a duplicate fails a scrape
        seen.add(labels)
        stale.add_metric(labels, f.stale)
        if f.age is not None:
            age.add_metric(labels, f.age)
    return stale, age


def exposition(db: Database, store: OnlineStore) -> bytes:
    registry = CollectorRegistry()
    registry.register(FreshnessCollector(lambda: read_figures(db, store)))
    return generate_latest(registry)


__all__ = [
    "AGE",
    "LABELS",
    "MAX_LABEL_CHARS",
    "MAX_VIEWS",
    "MAX_VIEWS_PER_WORKSPACE",
    "STALE",
    "FreshnessCollector",
    "ViewFreshness",
    "exposition",
    "read_figures",
]
