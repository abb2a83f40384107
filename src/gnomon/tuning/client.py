"""``client.tuning`` embedded: the service, in the caller's workspace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gnomon._types import Scope
from gnomon.tuning.api import MAX_LOGS_PER_READ
from gnomon.tuning.entities import Study
from gnomon.tuning.service import TuningService


class TuningClient:
    def __init__(self, service: TuningService, scope: Scope) -> None:
        self.service, self.scope = service, scope

    def create_study(
        self,
        name: str,
        directions: Sequence[str],
        *,
        settings: dict[str, Any] | None = None,
        experiment_id: str | None = None,
        run_id: str | None = None,
    ) -> Study:
        return self.service.create_study(
            self.scope,
            name,
            directions,
            settings=settings,
            experiment_id=experiment_id,
            run_id=run_id,
        )

    def get_study(self, study: str) -> Study:
        return self.service.get_study(self.scope, study)

    def list_studies(self, limit: int = 100) -> list[Study]:
        return self.service.list_studies(self.scope, limit)

    def delete_study(self, study: str) -> None:
        self.service.delete_study(self.scope, study)

    def append_logs(self, study_id: str, logs: Sequence[dict[str, Any]]) -> int:
        return self.service.append_logs(self.scope, study_id, logs)

    def read_logs(self, study_id: str, start: int, limit: int = MAX_LOGS_PER_READ) -> list[Any]:
        return self.service.read_logs(self.scope, study_id, start, limit)
