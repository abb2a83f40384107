"""Tracking entities: plain frozen values, the same in embedded and remote mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


class Lifecycle(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Experiment:
    id: str
    name: str
    workspace_id: str
    lifecycle: Lifecycle
    artifact_location: str
    created_time: int
    updated_time: int


@dataclass(slots=True, unsafe_hash=True)
class Metric:
    """One logged point. ``timestamp`` is milliseconds since the epoch.

    Read-only by convention, not frozen: a frozen dataclass sets each field through
    ``object.__setattr__``, which made building a 1,000-point history cost four times as much.
    """

    key: str
    value: float
    step: int = 0
    timestamp: int = 0


@dataclass(slots=True)
class Run:
    """A run with its data: ``metrics`` holds the latest value per key (highest step, then
    newest timestamp); the full series comes from ``get_metric_history``.

    Read-only by convention, not frozen: a search builds up to thousands of them, and a
    frozen dataclass of this size took five times as long to build.
    """

    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    user: str
    artifact_uri: str
    description: str = ""
    parent_run_id: str | None = None
    lifecycle: Lifecycle = Lifecycle.ACTIVE
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def duration_ms(self) -> int | None:
        return None if self.end_time is None else self.end_time - self.start_time

    def _repr_html_(self) -> str:  # a notebook's view of the run
        from gnomon.tracking.html import run_html

        return run_html(self)


@dataclass(frozen=True, slots=True)
class RunData:
    """What one batch writes to a run: the unit of buffered logging."""

    metrics: list[Metric] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.metrics or self.params or self.tags)


@dataclass(frozen=True, slots=True)
class NewRun:
    """What ``create_run`` needs; fields can grow without breaking store implementations."""

    experiment_id: str
    name: str
    user: str
    start_time: int
    description: str = ""
    parent_run_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FinishedRun:
    """A nested run recorded after the fact, already ended (a pipeline's step)."""

    run: NewRun
    status: RunStatus
    end_time: int
    data: RunData = field(default_factory=RunData)


@dataclass(frozen=True, slots=True)
class RunUpdate:
    """Fields of a run to change; ``None`` leaves a field as it is."""

    name: str | None = None
    description: str | None = None
    status: RunStatus | None = None
    end_time: int | None = None
