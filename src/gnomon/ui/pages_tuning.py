"""Tuning studies: the list, and one study as its report shows it (summary, best trial(s),
optimisation history, parameter importances, newest trials with their runs linked), replayed
from the study's journal on the server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Path, Request
from markupsafe import Markup
from starlette.responses import HTMLResponse

from gnomon.errors import NotFound
from gnomon.tracking.service import TrackingService
from gnomon.tuning import html as views
from gnomon.tuning.analysis import StudyReport, analyze
from gnomon.tuning.client import TuningClient
from gnomon.tuning.entities import Study
from gnomon.tuning.report_svg import history_chart, importance_bars
from gnomon.tuning.service import MAX_LIST, TuningService, check_showable
from gnomon.tuning.tables import NAME_LENGTH
from gnomon.ui.common import Looker, OptionalText, matching, service
from gnomon.ui.render import PageRoute, page
from gnomon.ui.session import Viewer

router = APIRouter(route_class=PageRoute)

STUDIES_LISTED = 200  # each reads its study's run
StudyRef = Annotated[str, Path(min_length=1, max_length=NAME_LENGTH)]
# Optuna's trial states as the status badges the other pages use.
BADGES = {
    "COMPLETE": "finished",
    "FAIL": "failed",
    "PRUNED": "skipped",
    "RUNNING": "running",
    "WAITING": "pending",
}


@dataclass(frozen=True, slots=True)
class Listed:
    """A study in the list, with what its run recorded when the last ``tune`` call ended."""

    study: Study
    objectives: str
    trials: int | None
    best: float | None


@router.get("/studies")
def studies_page(request: Request, viewer: Looker, q: OptionalText = None) -> HTMLResponse:
    """The workspace's studies, newest first; ``q`` narrows by part of the name."""
    found = matching(service(request, TuningService).list_studies(viewer.scope, MAX_LIST), q)
    shown = [_listed(request, viewer, study) for study in found[:STUDIES_LISTED]]
    return page(request, "studies.html", viewer, studies=shown, total=len(found), q=q or "")


@router.get("/studies/{study}")
def study_page(request: Request, viewer: Looker, study: StudyRef) -> HTMLResponse:
    """One study (by name or id), replayed from its journal."""
    tuning = service(request, TuningService)
    found = tuning.get_study(viewer.scope, study)
    check_showable(tuning, viewer.scope, found)  # replayed in this process: bounded
    report = analyze(TuningClient(tuning, viewer.scope), found)
    rows = views.newest(report)
    params = views.param_names(report, rows)
    return page(
        request,
        "study.html",
        viewer,
        report=report,
        study=report.study,
        rows=rows,
        params=params[: views.MAX_PARAM_COLUMNS],
        params_hidden=max(len(params) - views.MAX_PARAM_COLUMNS, 0),
        left_out=len(report.trials) - len(rows),
        best_max=views.MAX_BEST_ROWS,
        counts=views.counts(report.states),
        history=Markup(history_chart(report)),  # escaped in report_svg
        importances=Markup(importance_bars(report)),
        shown=views.shown,
        seconds=views.seconds,
        setting=lambda key: views.setting(report, key),
        badges=BADGES,
        states=views.STATES,
    )


def _listed(request: Request, viewer: Viewer, study: Study) -> Listed:
    names = StudyReport(study, [], [], {}).metric_names
    objectives = ", ".join(f"{n} ({d})" for n, d in zip(names, study.directions, strict=False))
    tracking = request.app.state.services.find(TrackingService)
    if tracking is None or study.run_id is None:
        return Listed(study, objectives, None, None)
    try:
        run = tracking.get_run(viewer.scope, study.run_id)
    except NotFound:  # the study's run was deleted: the study stays
        return Listed(study, objectives, None, None)
    counted = [run.tags.get(f"gnomon.tuning.{state.lower()}") for state in views.STATES]
    trials = sum(int(n) for n in counted if n and n.isdigit()) if any(counted) else None
    best = None if study.multi_objective else run.metrics.get(f"best_{names[0]}")
    return Listed(study, objectives, trials, best)
