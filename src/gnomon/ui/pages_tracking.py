"""Experiments, their runs, one run, and runs compared."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from gnomon.errors import GnomonError, InvalidInput, NotFound
from gnomon.tracking.comparison import compare_rows, distinct_run_ids
from gnomon.tracking.entities import Run
from gnomon.tracking.search import build_query
from gnomon.tracking.series import MAX_ACTIVITY_EXPERIMENTS, MAX_SERIES_POINTS
from gnomon.tracking.service import TrackingService
from gnomon.ui.charts import CHART_POINTS, line_chart
from gnomon.ui.common import Looker, OptionalText, PageToken, matching, service
from gnomon.ui.parallel import parallel_coordinates
from gnomon.ui.render import HEADERS, PageRoute, page
from gnomon.ui.run_details import artifact_answer, run_details

router = APIRouter(route_class=PageRoute)

RUNS_PER_PAGE = 100
MAX_COLUMNS = 30
MAX_CHART_METRICS = 12
MAX_COMPARED = 20
EXPERIMENTS_LISTED = 5000  # read to search by name
EXPERIMENTS_SHOWN = MAX_ACTIVITY_EXPERIMENTS


@router.get("/")
def experiments(request: Request, viewer: Looker, q: OptionalText = None) -> HTMLResponse:
    """Experiments by name with their run counts and last activity; ``q`` narrows by name."""
    tracking = service(request, TrackingService)
    listed = tracking.list_experiments(viewer.scope, max_results=EXPERIMENTS_LISTED)
    found = matching(listed, q)
    shown = found[:EXPERIMENTS_SHOWN]
    activity = tracking.experiment_activity(viewer.scope, [e.id for e in shown])
    rows = list(zip(shown, activity, strict=True))
    rows.sort(key=lambda pair: -(pair[1].last_activity or pair[0].updated_time))
    return page(request, "experiments.html", viewer, rows=rows, total=len(found), q=q or "")


def _columns(chosen: str | None, runs: list[Run]) -> list[str]:
    """``params.x`` / ``metrics.y`` columns: those asked for, else up to five of each seen."""
    if chosen:
        names = [c.strip() for c in chosen.split(",") if c.strip()][:MAX_COLUMNS]
        bad = [c for c in names if not c.startswith(("params.", "metrics.", "tags."))]
        if bad:
            raise InvalidInput(f"columns are params.NAME, metrics.NAME or tags.NAME: {bad[0]!r}")
        return names
    params = sorted({k for r in runs for k in r.params})[:5]
    metrics = sorted({k for r in runs for k in r.metrics})[:5]
    return [f"params.{k}" for k in params] + [f"metrics.{k}" for k in metrics]


def cell(run: Run, column: str) -> Any:
    section, _, key = column.partition(".")
    values: dict[str, Mapping[str, Any]] = {
        "params": run.params,
        "metrics": run.metrics,
        "tags": run.tags,
    }
    return values[section].get(key)


@router.get("/experiments/{experiment_id}")
def experiment_runs(
    request: Request,
    viewer: Looker,
    experiment_id: str,
    filter: OptionalText = None,
    order: OptionalText = None,
    columns: OptionalText = None,
    page_token: PageToken = None,
) -> HTMLResponse:
    """The runs table: the search language as the filter, sorting by any column, paged on
    the server (100 runs a page, whatever the experiment's size)."""
    tracking = service(request, TrackingService)
    experiment = tracking.get_experiment(viewer.scope, experiment_id[:64])
    error = ""
    runs: list[Run] = []
    token = None
    try:
        query = build_query(
            [experiment.id],
            filter or None,
            [order] if order else None,
            RUNS_PER_PAGE,
            page_token or None,
        )
        found = tracking.search_query(viewer.scope, query)  # by id: no lookup by name first
        runs, token = list(found), found.next_page_token
    except InvalidInput as exc:  # a bad filter or order: said next to the box
        error = exc.message
    shown = _columns(columns, runs)
    return page(
        request,
        "experiment.html",
        viewer,
        400 if error else 200,
        experiment=experiment,
        runs=runs,
        columns=shown,
        cell=cell,
        filter=filter or "",
        order=order or "",
        chosen=columns or "",
        error=error,
        next_page=token,
    )


@router.get("/runs/{run_id}")
def run_page(
    request: Request,
    viewer: Looker,
    run_id: str,
    metrics: OptionalText = None,
    path: OptionalText = None,
) -> HTMLResponse:
    """One run: params, latest metrics, its metric curves, tags, artifacts, code, data."""
    tracking = service(request, TrackingService)
    run = tracking.get_run(viewer.scope, run_id[:64])
    keys = _chart_keys(metrics, run)
    series = [tracking.metric_series(viewer.scope, run.id, k, CHART_POINTS) for k in keys]
    chart = line_chart("metrics", series, run_id=run.id)
    details = run_details(request, viewer, run, path or "")
    experiment = tracking.get_experiment(viewer.scope, run.experiment_id)
    return page(
        request,
        "run.html",
        viewer,
        run=run,
        experiment=experiment,
        chart=chart,
        chart_keys=keys,
        **details,
    )


def _chart_keys(chosen: str | None, run: Run) -> list[str]:
    if chosen:
        keys = [k.strip() for k in chosen.split(",") if k.strip()]
        unknown = [k for k in keys if k not in run.metrics]
        if unknown:
            raise NotFound(f"run {run.id} has no metric {unknown[0]!r}")
        return keys[:MAX_CHART_METRICS]
    return sorted(run.metrics)[:MAX_CHART_METRICS]


@router.get("/runs/{run_id}/series")
def run_series(
    request: Request,
    viewer: Looker,
    run_id: str,
    key: Annotated[str, Query(max_length=500)],
    start: Annotated[int | None, Query(ge=-(2**62), le=2**62)] = None,
    end: Annotated[int | None, Query(ge=-(2**62), le=2**62)] = None,
    points: Annotated[int, Query(ge=2, le=MAX_SERIES_POINTS)] = CHART_POINTS,
) -> Response:
    """One metric's points between two steps, as JSON: what a zoomed chart draws in full."""
    try:
        found = service(request, TrackingService).metric_series(
            viewer.scope, run_id[:64], key, points, (start, end)
        )
    except GnomonError as exc:
        return JSONResponse(exc.to_payload(), exc.status, headers=HEADERS)
    body = line_chart("zoom", [found])
    return JSONResponse(body, headers=HEADERS)


@router.get("/runs/{run_id}/artifact")
def run_artifact(
    request: Request,
    viewer: Looker,
    run_id: str,
    path: Annotated[str, Query(min_length=1, max_length=1000)],
    download: bool = False,
) -> Response:
    """One artifact's bytes: images as themselves (shown by the run page), anything else as
    a download, never rendered by the browser as a page of this site."""
    run = service(request, TrackingService).get_run(viewer.scope, run_id[:64])
    return artifact_answer(request, viewer, run, path, download)


@router.get("/compare")
def compare(
    request: Request,
    viewer: Looker,
    runs: Annotated[list[str] | None, Query(max_length=64 * MAX_COMPARED)] = None,
    metric: OptionalText = None,
) -> HTMLResponse:
    """Runs side by side: params and metrics with differences highlighted and the best value
    marked, their curves overlaid, and params against a chosen metric."""
    ids = distinct_run_ids(i for value in runs or [] for i in value.split(",") if i.strip())
    if len(ids) < 2:
        raise InvalidInput("choose at least two runs to compare (?runs=ID,ID)")
    if len(ids) > MAX_COMPARED:
        raise InvalidInput(f"at most {MAX_COMPARED} runs at once, got {len(ids)}")
    tracking = service(request, TrackingService)
    found = [tracking.get_run(viewer.scope, run_id[:64]) for run_id in ids]
    rows = compare_rows(found)
    keys = sorted({k for r in found for k in r.metrics})
    chosen = metric if metric in keys else (keys[0] if keys else "")
    charts: list[dict[str, Any]] = []
    for key in keys[:MAX_CHART_METRICS]:
        series = []
        for run in found:
            if key in run.metrics:
                s = tracking.metric_series(viewer.scope, run.id, key, CHART_POINTS)
                series.append(replace(s, key=run.name or run.id[:8]))
        charts.append(line_chart(f"compare-{len(charts)}", series, title=key))
    return page(
        request,
        "compare.html",
        viewer,
        runs=found,
        rows=rows,
        charts=charts,
        metric=chosen,
        metric_keys=keys,
        parallel=parallel_coordinates(found, chosen) if chosen else "",
    )
