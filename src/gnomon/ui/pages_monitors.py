"""Monitors: the list, and one monitor's windows over time (drift per column, data quality,
outliers, live performance per arm and segment), one window in detail with a column's
reference and current histograms overlaid, and its alert rules and their history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import HTMLResponse

from gnomon.errors import NotFound
from gnomon.monitoring.entities import LAST_MS, NAME, WindowResult, not_found
from gnomon.monitoring.report_html import MAX_WINDOWS
from gnomon.monitoring.service import MonitorService
from gnomon.ui import monitor_views as views
from gnomon.ui.common import Looker, OptionalText, matching, service
from gnomon.ui.render import PageRoute, page

router = APIRouter(route_class=PageRoute)

MONITORS_LISTED = 1000
EVENTS_SHOWN = 100

MonitorName = Annotated[str, Path(min_length=1, max_length=100)]
WindowStart = Annotated[int | None, Query(ge=0, le=LAST_MS)]
ColumnName = Annotated[str | None, Query(max_length=1000)]


@router.get("/monitors")
def monitors_page(request: Request, viewer: Looker, q: OptionalText = None) -> HTMLResponse:
    """The workspace's monitors by name; ``q`` narrows by part of the name or deployment."""
    listed = service(request, MonitorService).list(viewer.scope)
    found = matching(listed, q, lambda m: (m.name, m.spec.deployment))
    return page(
        request,
        "monitors.html",
        viewer,
        monitors=found[:MONITORS_LISTED],
        total=len(found),
        q=q or "",
    )


@router.get("/monitors/{name}")
def monitor_page(
    request: Request,
    viewer: Looker,
    name: MonitorName,
    window: WindowStart = None,
    column: ColumnName = None,
) -> HTMLResponse:
    """One monitor: its newest windows charted; ``window`` (a window's start, ms) picks the
    window detailed (else the newest with records), ``column`` the histogram shown."""
    if not NAME.fullmatch(name):
        raise not_found("monitor", name)
    monitors = service(request, MonitorService)
    monitor = monitors.get(viewer.scope, name)
    windows = monitors.results(viewer.scope, name, limit=MAX_WINDOWS)
    chosen = _chosen(windows, window)
    columns = views.drift_columns(chosen)
    shown = _column(columns, column, chosen)
    drifting = [str(c.get("column")) for c in columns if c.get("status") == "drift"]
    return page(
        request,
        "monitor.html",
        viewer,
        monitor=monitor,
        windows=windows,
        charts=views.timeline_charts(windows, drifting),
        chosen=chosen,
        columns=columns[: views.MAX_ROWS],
        column=shown,
        histogram=views.histogram(shown) if shown is not None else None,
        quality=views.quality_rows(chosen),
        rejected=views.rejected(chosen),
        outliers=views.outliers(chosen),
        performance=views.performance(chosen),
        rules=monitors.rules(viewer.scope, name),
        events=monitors.events(viewer.scope, name, EVENTS_SHOWN),
        events_max=EVENTS_SHOWN,
        windows_max=MAX_WINDOWS,
    )


def _chosen(windows: list[WindowResult], start: int | None) -> WindowResult | None:
    """The charted window starting at ``start``, else the newest with records.

    Raises:
        NotFound: no charted window starts at ``start``.
    """
    if start is None:
        return next((w for w in reversed(windows) if w.rows > 0), None)
    found = next((w for w in windows if w.start_ms == start), None)
    if found is None:
        raise NotFound(f"no window starting at {start} among the newest {MAX_WINDOWS} windows")
    return found


def _column(
    columns: list[Mapping[str, Any]], wanted: str | None, window: WindowResult | None
) -> Mapping[str, Any] | None:
    """The drift verdict of the column asked for, else the first (drifting ones come first).

    Raises:
        NotFound: the window has no verdict for ``wanted``.
    """
    if wanted is None:
        return columns[0] if columns else None
    found = next((c for c in columns if c.get("column") == wanted), None)
    if found is None:
        where = f"window starting at {window.start_ms}" if window else "monitor's windows"
        raise NotFound(f"the {where} has no drift verdict for column {wanted[:100]!r}")
    return found
