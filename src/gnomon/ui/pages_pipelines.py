"""Pipeline runs and schedules, one run as a DAG of its steps, and the lineage of any object."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import HTMLResponse

from gnomon.errors import InvalidInput, NotFound
from gnomon.pipelines.api import Direction
from gnomon.pipelines.lineage import MAX_DEPTH, LineageService
from gnomon.pipelines.schedules import ScheduleService
from gnomon.pipelines.service import MAX_LIST, PipelineService
from gnomon.tracking.validation import NAME_LENGTH
from gnomon.ui.common import Looker, service
from gnomon.ui.graph_svg import MAX_NODES
from gnomon.ui.pipeline_views import lineage_graph, object_page, run_graph, step_logs
from gnomon.ui.render import PageRoute, href, page

router = APIRouter(route_class=PageRoute)

RUNS_PER_PAGE = 50
MAX_PAGES = MAX_LIST // RUNS_PER_PAGE  # the newest 1,000 runs: what one listing may read
SCHEDULES_SHOWN = 200
STEPS_LISTED = MAX_NODES
ARTIFACTS_LISTED = 500

RunId = Annotated[str, Path(min_length=1, max_length=64)]
PageNumber = Annotated[int, Query(alias="page", ge=1, le=MAX_PAGES)]


@router.get("/pipelines")
def pipelines(
    request: Request,
    viewer: Looker,
    pipeline: Annotated[str | None, Query(max_length=NAME_LENGTH)] = None,
    number: PageNumber = 1,
) -> HTMLResponse:
    """Pipeline runs, newest first, 50 a page (``?pipeline=`` narrows to one pipeline), and
    the workspace's schedules."""
    recorded = service(request, PipelineService)
    wanted = min(number * RUNS_PER_PAGE + 1, MAX_LIST)  # one more: is there a next page
    found = recorded.list_runs(viewer.scope, pipeline or None, wanted)
    runs = found[(number - 1) * RUNS_PER_PAGE : number * RUNS_PER_PAGE]
    schedules = request.app.state.services.find(ScheduleService)
    listed = schedules.list(viewer.scope) if schedules is not None else []
    return page(
        request,
        "pipelines.html",
        viewer,
        runs=runs,
        pipeline=pipeline or "",
        number=number,
        more=len(found) > number * RUNS_PER_PAGE and number < MAX_PAGES,
        max_pages=MAX_PAGES,
        per_page=RUNS_PER_PAGE,
        schedules=listed[:SCHEDULES_SHOWN],
        schedules_total=len(listed),
    )


@router.get("/pipelines/runs/{run_id}")
def pipeline_run(
    request: Request,
    viewer: Looker,
    run_id: RunId,
    step: Annotated[str | None, Query(max_length=NAME_LENGTH)] = None,
) -> HTMLResponse:
    """One run: its DAG coloured by step status, its steps, and the chosen step (``?step=``)
    with its error, logs (their tail) and artifacts."""
    recorded = service(request, PipelineService)
    run = recorded.get_run(viewer.scope, run_id)
    steps = recorded.steps(viewer.scope, run.id)
    chosen = None
    if step:
        chosen = next((s for s in steps if s.node == step), None)
        if chosen is None:
            raise NotFound(f"pipeline run {run.id} has no step {step[:100]!r}")
    counts: dict[str, int] = {}
    for s in steps:
        counts[s.status] = counts.get(s.status, 0) + 1
    link = partial(href, viewer)
    return page(
        request,
        "pipeline_run.html",
        viewer,
        run=run,
        graph=run_graph(run, steps, step, link),
        steps=steps[:STEPS_LISTED],
        steps_total=len(steps),
        counts=sorted(counts.items()),
        chosen=chosen,
        logs=step_logs(request, viewer, chosen) if chosen else None,
        max_artifacts=ARTIFACTS_LISTED,
    )


@router.get("/lineage")
def lineage(
    request: Request,
    viewer: Looker,
    ref: Annotated[str | None, Query(alias="object", max_length=700)] = None,
    direction: Direction = "both",
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 10,
) -> HTMLResponse:
    """The graph around ``?object=KIND:NAME`` (``direction`` upstream, downstream or both,
    ``depth`` links); a bad or unknown object is said next to the form."""
    graph, error, status = None, "", 200
    if ref:
        try:
            graph = service(request, LineageService).graph(viewer.scope, ref, direction, depth)
        except (InvalidInput, NotFound) as exc:
            error, status = exc.message, exc.status
    link = partial(href, viewer)
    return page(
        request,
        "lineage.html",
        viewer,
        status,
        ref=ref or "",
        direction=direction,
        depth=depth,
        max_depth=MAX_DEPTH,
        error=error,
        graph=graph,
        drawing=lineage_graph(graph, direction, depth, link) if graph else None,
        nodes=list(graph.nodes[:MAX_NODES]) if graph else [],
        object_page=lambda node: object_page(node, link),
    )
