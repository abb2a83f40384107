"""The worker's loops: every ``interval`` seconds, run each due monitor of every workspace;
and, in ``gnomon worker`` only, each due pipeline schedule.

Each monitor run takes the monitor's lease in the database first, and each schedule tick is
claimed by inserting its row, so any number of workers (and servers running monitors) share
the work without evaluating a window or running a tick twice. Schedules loop in a thread of
their own: a pipeline that runs for an hour does not hold monitors back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from gnomon.monitoring.entities import MonitorRun
from gnomon.monitoring.service import MonitorService

if TYPE_CHECKING:
    from gnomon.automation.entities import Rollout
    from gnomon.automation.rollouts import RolloutService
    from gnomon.pipelines.schedule_entities import Tick
    from gnomon.pipelines.schedules import ScheduleService

logger = logging.getLogger("gnomon.worker")
T = TypeVar("T")
GRACE_ROUNDS = 2  # catchup=none: a tick found within two rounds of its time is on time


def run_forever(
    monitors: MonitorService,
    interval: float,
    stop: threading.Event,
    on_round: Callable[[list[MonitorRun]], None] | None = None,
    owner: str | None = None,
) -> None:
    """Rounds until ``stop`` is set; a round that fails is logged and the next one runs."""
    while not stop.is_set():
        try:
            done = monitors.run_due(owner)
        except Exception:  # the database away for a moment: try again next round
            logger.exception("a worker round failed")
            done = []
        if on_round is not None:
            on_round(done)
        stop.wait(interval)


def schedules_round(schedules: ScheduleService, interval: float, owner: str | None) -> list[Tick]:
    """One round of every due schedule tick; a failure is logged, not raised."""
    from gnomon.pipelines.schedules import ON_TIME_MS

    grace = max(ON_TIME_MS, int(GRACE_ROUNDS * interval * 1000))
    try:
        return schedules.run_due(owner, grace_ms=grace)
    except Exception:  # the database away for a moment: try again next round
        logger.exception("a schedule round failed")
        return []


def run_schedules_forever(
    schedules: ScheduleService,
    interval: float,
    stop: threading.Event,
    on_round: Callable[[list[Tick]], None] | None = None,
    owner: str | None = None,
) -> threading.Thread:
    """Schedule rounds in a thread until ``stop`` is set; the thread, started."""
    one_round = partial(schedules_round, schedules, interval, owner)
    return _rounds("gnomon-schedules", one_round, interval, stop, on_round)


def rollouts_round(rollouts: RolloutService, owner: str | None) -> list[Rollout]:
    """One step of every running rollout this worker gets the lease of; never raises."""
    try:
        return rollouts.run_due(owner)
    except Exception:  # the database away for a moment: try again next round
        logger.exception("a rollout round failed")
        return []


def run_rollouts_forever(
    rollouts: RolloutService,
    interval: float,
    stop: threading.Event,
    on_round: Callable[[list[Rollout]], None] | None = None,
    owner: str | None = None,
) -> threading.Thread:
    """Rollout rounds in a thread until ``stop`` is set: a rollout's smoke test loads a
    model, which must not hold monitors or a long pipeline back (nor they it)."""
    one_round = partial(rollouts_round, rollouts, owner)
    return _rounds("gnomon-rollouts", one_round, interval, stop, on_round)


def _rounds(
    name: str,
    one_round: Callable[[], list[T]],
    interval: float,
    stop: threading.Event,
    on_round: Callable[[list[T]], None] | None,
) -> threading.Thread:
    """A daemon thread running ``one_round`` (which never raises) every ``interval``
    seconds until ``stop`` is set; started."""

    def loop() -> None:
        while not stop.is_set():
            done = one_round()
            if on_round is not None:
                on_round(done)
            stop.wait(interval)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread


__all__ = [
    "rollouts_round",
    "run_forever",
    "run_rollouts_forever",
    "run_schedules_forever",
    "schedules_round",
]
