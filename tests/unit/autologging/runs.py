"""Reading back what autologging wrote, shared by the libraries' tests."""

from __future__ import annotations

import gnomon
from gnomon.errors import NotFound
from gnomon.tracking.entities import Run


def runs() -> list[Run]:
    """Every run of the default experiment, oldest first."""
    try:
        return list(gnomon.search_runs(order_by=["start_time ASC"]))
    except NotFound:  # no run ever made the default experiment
        return []


def only_run() -> Run:
    [run] = runs()
    return run


def history(run: Run, key: str) -> list[float]:
    """The metric's values, checking they were logged at steps 0, 1, 2…"""
    points = gnomon.get_client().get_metric_history(run.id, key)
    assert [p.step for p in points] == list(range(len(points)))
    return [p.value for p in points]
