"""What another capability may add around a schedule's won tick, without pipelines knowing
it: the closed loop's policies are schedules whose ticks may be refused (a cool-down, a
retraining already in flight) and whose pipeline runs are followed (gate, risk, rollout)."""

from __future__ import annotations

from typing import Protocol

from gnomon.pipelines.schedule_entities import Schedule, Tick


class TickHooks(Protocol):
    def before(self, schedule: Schedule, tick: str, now: int) -> str | None:
        """Called once a worker won ``tick``, before the pipeline runs: a reason to skip it
        (recorded as the tick's message), or None to run it."""
        ...

    def after(self, schedule: Schedule, tick: Tick) -> None:
        """Called in the worker once the pipeline ran (or failed); exceptions are logged."""
        ...


__all__ = ["TickHooks"]
