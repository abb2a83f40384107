"""ScheduleClient: ``client.schedules`` embedded (beside the database), the service bound to
the client's scope. A server offers no schedules yet: they are managed where the worker
that runs them reads the database."""

from __future__ import annotations

from gnomon._types import Scope
from gnomon.pipelines.schedule_entities import NewSchedule, Schedule, Tick
from gnomon.pipelines.schedules import ScheduleService


class ScheduleClient:
    def __init__(self, service: ScheduleService, scope: Scope) -> None:
        self.service = service
        self.scope = scope

    def create(self, new: NewSchedule) -> Schedule:
        return self.service.create(self.scope, new)

    def get(self, name: str) -> Schedule:
        return self.service.get(self.scope, name)

    def pause(self, name: str) -> Schedule:
        return self.service.pause(self.scope, name)

    def resume(self, name: str) -> Schedule:
        return self.service.resume(self.scope, name)

    def delete(self, name: str) -> None:
        self.service.delete(self.scope, name)

    def history(self, name: str, limit: int = 100) -> list[Tick]:
        return self.service.history(self.scope, name, limit)

    def list(self) -> list[Schedule]:
        return self.service.list(self.scope)


__all__ = ["ScheduleClient"]
