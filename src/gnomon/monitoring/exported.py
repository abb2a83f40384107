"""The monitors' latest figures as Prometheus text, for ``GET /api/v1/metrics/monitors``.

Not on the public ``/metrics``: column names, segment values and workspace names are the
workspaces' own, so the scraper authenticates (a global admin's token, see deploy/).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from gnomon.monitoring.prometheus import LatestFigures, MonitorCollector, MonitorFigure
from gnomon.monitoring.sql import SqlMonitorStore


def latest_figures(store: SqlMonitorStore) -> list[LatestFigures]:
    found = []
    for workspace, monitor, window, firing in store.latest():
        figures: tuple[MonitorFigure, ...] = ()
        end = monitor.watermark_ms or 0
        if window is not None:
            figures = tuple(MonitorFigure(f.family, f.value, f.labels) for f in window.figures)
            end = window.end_ms
        found.append(
            LatestFigures(
                workspace, monitor.name, monitor.spec.deployment, end, figures, tuple(firing)
            )
        )
    return found


def exposition(store: SqlMonitorStore) -> bytes:
    registry = CollectorRegistry()
    registry.register(MonitorCollector(lambda: latest_figures(store)))
    return generate_latest(registry)


__all__ = ["exposition", "latest_figures"]
