"""What a schedule is: the pipeline it starts, its triggers (a cron, a dataset's new
versions, a monitor's alerts), and its ticks, one per time it fired (or was skipped)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Catchup = Literal["latest", "all", "none"]
TickStatus = Literal["pending", "running", "succeeded", "failed", "skipped"]
CATCHUPS = ("latest", "all", "none")


@dataclass(frozen=True, slots=True)
class NewSchedule:
    """A schedule to create: at least one of ``cron``, ``dataset`` and ``monitor``."""

    name: str
    pipeline: str  # "module:attribute", imported by the worker
    params: dict[str, Any] = field(default_factory=dict)
    cron: str | None = None  # five fields: minute hour day-of-month month day-of-week
    timezone: str = "UTC"  # the cron's: "0 3 * * *" is 03:00 there, across DST changes
    dataset: str | None = None  # a new version of it starts the pipeline
    monitor: str | None = None  # an alert of it starts the pipeline
    alert_rule: str | None = None  # only this rule's alerts (default: any rule's)
    catchup: Catchup = "latest"  # missed cron ticks: the latest runs, all run, or none
    executor: str = "local"


@dataclass(frozen=True, slots=True)
class Schedule:
    id: str
    name: str
    pipeline: str
    params: dict[str, Any]
    cron: str | None
    timezone: str
    dataset: str | None
    monitor: str | None
    alert_rule: str | None
    catchup: Catchup
    executor: str
    paused: bool
    next_ms: int | None  # the next cron tick not yet taken
    seen_version: int | None  # the dataset's version last acted on
    seen_alert_ms: int | None  # alert events raised up to then were acted on
    created_by: str
    created_time: int
    workspace: str = ""

    @property
    def triggers(self) -> list[str]:
        """``["cron 0 3 * * * (UTC)", "dataset train", "alert web-drift/x"]``."""
        found = []
        if self.cron is not None:
            found.append(f"cron {self.cron} ({self.timezone})")
        if self.dataset is not None:
            found.append(f"dataset {self.dataset}")
        if self.monitor is not None:
            rule = f"/{self.alert_rule}" if self.alert_rule else ""
            found.append(f"alert {self.monitor}{rule}")
        return found


@dataclass(frozen=True, slots=True)
class Tick:
    """One firing of a schedule: ``cron:<ms>``, ``dataset:<version>`` or ``alert:<event id>``.

    Its row is its claim: the first worker to insert it runs it, any other gets a conflict.
    """

    schedule: str
    tick: str
    status: TickStatus
    owner: str | None
    pipeline_run_id: str | None
    message: str | None
    created_ms: int
    updated_ms: int


__all__ = ["CATCHUPS", "Catchup", "NewSchedule", "Schedule", "Tick", "TickStatus"]
