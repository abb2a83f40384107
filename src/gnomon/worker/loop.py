"""The worker's loop: every ``interval`` seconds, run each due monitor of every workspace.

Each monitor run takes the monitor's lease in the database first, so any number of workers
(and servers running monitors) share the schedule without evaluating a window twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from gnomon.monitoring.entities import MonitorRun
from gnomon.monitoring.service import MonitorService

logger = logging.getLogger("gnomon.worker")


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


__all__ = ["run_forever"]
