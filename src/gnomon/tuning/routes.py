"""Tuning REST routes under /api/v1: studies, and their journals for remote workers.

Trials run on the callers' machines (or Ray); the server stores what Optuna logs, in the
caller's workspace, and never runs an objective. Viewers read studies and journals; editors
create and delete studies and append to journals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from gnomon.auth.entities import AuditAction
from gnomon.server.access import Access, Caller, require
from gnomon.server.audit import audit
from gnomon.server.respond import wire
from gnomon.tuning.api import MAX_LOGS_PER_READ
from gnomon.tuning.schemas import Appended, Id, LogsIn, LogsOut, Name, StudyIn, StudyOut
from gnomon.tuning.service import MAX_LIST, TuningService

router = APIRouter(tags=["tuning"])

Reader = Annotated[Caller, Depends(require(Access.VIEWER))]
Writer = Annotated[Caller, Depends(require(Access.EDITOR))]


async def _service(request: Request) -> TuningService:
    service: TuningService = request.app.state.services.get(TuningService)
    return service


Tuning = Annotated[TuningService, Depends(_service)]


@router.post("/tuning/studies", status_code=201, response_model=StudyOut)
def create_study(body: StudyIn, request: Request, caller: Writer, tuning: Tuning) -> Response:
    """A new study (409 when the workspace has one of that name)."""
    study = tuning.create_study(
        caller.scope,
        body.name,
        body.directions,
        settings=body.settings,
        experiment_id=body.experiment_id,
        run_id=body.run_id,
    )
    audit(request, caller, AuditAction.CREATE, "study", study.id, {"name": study.name})
    return wire(StudyOut, StudyOut.of(study), 201)


@router.get("/tuning/studies", response_model=list[StudyOut])
def list_studies(
    caller: Reader, tuning: Tuning, limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100
) -> Response:
    """Newest first."""
    found = tuning.list_studies(caller.scope, limit)
    return wire(list[StudyOut], [StudyOut.of(s) for s in found])


@router.get("/tuning/studies/{study}", response_model=StudyOut)
def get_study(study: Name, caller: Reader, tuning: Tuning) -> Response:
    """By id or name."""
    return wire(StudyOut, StudyOut.of(tuning.get_study(caller.scope, study)))


@router.delete("/tuning/studies/{study}", status_code=204)
def delete_study(study: Name, request: Request, caller: Writer, tuning: Tuning) -> Response:
    """The study and its journal; its trials' runs stay in tracking."""
    found = tuning.get_study(caller.scope, study)
    tuning.delete_study(caller.scope, found.id)
    audit(request, caller, AuditAction.DELETE, "study", found.id, {"name": found.name})
    return Response(status_code=204)


@router.get("/tuning/studies/{study_id}/journal", response_model=LogsOut)
def read_journal(
    study_id: Id,
    caller: Reader,
    tuning: Tuning,
    start: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LOGS_PER_READ)] = MAX_LOGS_PER_READ,
) -> Response:
    """The journal's entries numbered ``start`` on, in order."""
    return wire(LogsOut, {"logs": tuning.read_logs(caller.scope, study_id, start, limit)})


@router.post("/tuning/studies/{study_id}/journal", response_model=Appended)
def append_journal(study_id: Id, body: LogsIn, caller: Writer, tuning: Tuning) -> Response:
    """Entries added at the journal's end, in one transaction; the first one's number."""
    return wire(Appended, {"first": tuning.append_logs(caller.scope, study_id, body.logs)})
