"""Which pipeline step is running in this process: set by the worker around each step, so
step code (and the standard components) can nest their own tracking runs under the pipeline's."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StepContext:
    pipeline: str
    run_id: str  # the pipeline run
    node: str
    attempt: int
    tracking_run_id: str | None  # the pipeline run's run in tracking


_CURRENT: contextvars.ContextVar[StepContext | None] = contextvars.ContextVar(
    "gnomon_pipeline_step", default=None
)


def current_step() -> StepContext | None:
    """The step this code runs in, or ``None`` outside a pipeline."""
    return _CURRENT.get()


def entered(context: StepContext | None) -> contextvars.Token[StepContext | None]:
    return _CURRENT.set(context)


def left(token: contextvars.Token[StepContext | None]) -> None:
    _CURRENT.reset(token)


__all__ = ["StepContext", "current_step"]
