"""Pipelines the schedule tests start, importable by worker processes. Each run appends a
line to the file ``log`` names, so a test counts real executions, not rows; and ``race``,
the body of a scheduler process racing another for the same ticks."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import gnomon


@gnomon.step(cache=False)
def record(log: str, n: int, dataset: str, alert: Any) -> str:
    line = {"pid": os.getpid(), "n": n, "dataset": dataset, "alert": alert}
    with open(log, "a") as out:  # one short O_APPEND write: lines never interleave
        out.write(json.dumps(line) + "\n")
    return dataset


@gnomon.step(cache=False)
def explode(log: str) -> str:
    raise ValueError(f"boom ({log})")


@gnomon.pipeline
def logged(log: str, n: int = 0) -> None:
    record(log, n, "", None)


@gnomon.pipeline
def on_data(log: str, dataset: str) -> None:
    record(log, 0, dataset, None)


@gnomon.pipeline
def on_alert(log: str, alert: dict = {}) -> None:  # noqa: B006 - a JSON default, never mutated
    record(log, 0, "", alert)


@gnomon.pipeline
def broken(log: str) -> None:
    explode(log)


def lines(log: str) -> list[dict[str, Any]]:
    if not os.path.exists(log):
        return []
    with open(log) as found:
        return [json.loads(line) for line in found if line.strip()]


def race(now: int, start_at: float) -> None:
    """Wait until ``start_at`` (both racers start together), run one round at ``now``, print
    the ticks this process claimed as JSON."""
    from gnomon.pipelines.schedules import ScheduleService

    client = gnomon.get_client()
    service = client._services.get(ScheduleService)
    time.sleep(max(0.0, start_at - time.time()))
    won = service.run_due(now=now)
    print(json.dumps([{"tick": t.tick, "status": t.status, "run": t.pipeline_run_id} for t in won]))
