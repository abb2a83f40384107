"""HttpTuningClient: ``client.tuning`` over a gnomon server's REST API (the contract is
:class:`gnomon.tuning.api.TuningApi`). Objectives run here; the server keeps the journal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gnomon.client.transport import Transport, body, segment
from gnomon.tuning.api import MAX_LOGS_PER_READ
from gnomon.tuning.entities import Study
from gnomon.tuning.schemas import Appended, LogsIn, LogsOut, StudyIn, StudyOut


class HttpTuningClient:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def create_study(
        self,
        name: str,
        directions: Sequence[str],
        *,
        settings: dict[str, Any] | None = None,
        experiment_id: str | None = None,
        run_id: str | None = None,
    ) -> Study:
        sent = body(
            StudyIn,
            name=name,
            directions=list(directions),  # type: ignore[arg-type]  # the model checks them
            settings=settings or {},
            experiment_id=experiment_id,
            run_id=run_id,
        )
        return self.transport.one("POST", "/tuning/studies", StudyOut, json=sent).entity()

    def get_study(self, study: str) -> Study:
        return self.transport.one("GET", _study(study), StudyOut).entity()

    def list_studies(self, limit: int = 100) -> list[Study]:
        found = self.transport.many("GET", "/tuning/studies", StudyOut, params={"limit": limit})
        return [s.entity() for s in found]

    def delete_study(self, study: str) -> None:
        self.transport.request("DELETE", _study(study))

    def append_logs(self, study_id: str, logs: Sequence[dict[str, Any]]) -> int:
        sent = body(LogsIn, logs=list(logs))
        path = f"{_study(study_id)}/journal"
        return self.transport.one("POST", path, Appended, json=sent).first

    def read_logs(self, study_id: str, start: int, limit: int = MAX_LOGS_PER_READ) -> list[Any]:
        params = {"start": start, "limit": limit}
        path = f"{_study(study_id)}/journal"
        return self.transport.one("GET", path, LogsOut, params=params).logs


def _study(study: str) -> str:
    return f"/tuning/studies/{segment(study)}"
