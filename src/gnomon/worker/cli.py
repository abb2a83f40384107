"""``gnomon worker``: run scheduled monitors and pipelines until stopped (Ctrl-C or SIGTERM)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated, Any

import typer

from gnomon.cli.output import beside_the_database, format_time, say, state_of
from gnomon.monitoring.entities import MonitorRun

ROLLOUT_INTERVAL_S = 10.0  # a rollout's stages hold minutes: looked at more often than that


def worker(
    ctx: typer.Context,
    interval: Annotated[
        float, typer.Option(min=1, max=3600, help="Seconds between looks at the schedule.")
    ] = 30,
    once: Annotated[bool, typer.Option(help="One round, then exit (cron, tests).")] = False,
) -> None:
    """Run scheduled monitors (a lease per monitor), pipeline schedules and policies (each
    tick claimed once) and rollouts (a lease each), so that workers share the work.
    Pipelines are imported from the current folder."""
    from gnomon.automation.rollouts import RolloutService
    from gnomon.automation.wiring import start_loop
    from gnomon.backends import open_services
    from gnomon.monitoring.service import MonitorService
    from gnomon.pipelines.schedules import ScheduleService
    from gnomon.worker.loop import (
        rollouts_round,
        run_forever,
        run_rollouts_forever,
        run_schedules_forever,
        schedules_round,
    )

    beside_the_database(ctx, "gnomon worker runs beside the metadata database", ", not to a server")
    settings = state_of(ctx).settings
    # The server's copy: a webhook a client configured must not reach this network either.
    services = open_services(settings).for_server()
    monitors = services.get(MonitorService)
    schedules = services.get(ScheduleService)
    rollouts = services.get(RolloutService)
    start_loop(services)
    stop = threading.Event()
    if once:
        stop.set()
        _said(monitors.run_due())
        _ticks(schedules_round(schedules, interval, None))
        _stepped(rollouts_round(rollouts, None))
        return

    def stopping(signum: int, _: Any) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C: at once

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stopping)
    say(
        f"Worker running scheduled monitors, pipelines and rollouts every {interval:g}s; "
        "Ctrl-C stops it"
    )
    pipelines = run_schedules_forever(schedules, interval, stop, _ticks)
    run_rollouts_forever(rollouts, min(interval, ROLLOUT_INTERVAL_S), stop, _stepped)
    run_forever(monitors, interval, stop, _said)
    if pipelines.is_alive():
        say("Waiting for the running pipeline to end (Ctrl-C again to stop at once)")
        pipelines.join()


def _said(runs: list[MonitorRun]) -> None:
    for run in runs:
        if run.skipped:
            say(f"{run.monitor}: skipped, {run.skipped}")
        elif run.windows:
            say(
                f"{run.monitor}: {len(run.windows)} window(s) up to {format_time(run.watermark_ms)}"
            )


def _stepped(rollouts: list[Any]) -> None:
    for rollout in rollouts:
        last = rollout.decisions[-1] if rollout.decisions else None
        if last is not None and last.at_ms >= rollout.updated_ms:
            say(
                f"rollout {rollout.candidate} on {rollout.deployment}: "
                f"{last.action}: {last.reason[:300]}"
            )


def _ticks(ticks: list[Any]) -> None:
    for tick in ticks:
        run = f" run {tick.pipeline_run_id}" if tick.pipeline_run_id else ""
        message = f": {tick.message[:300]}" if tick.message and tick.status != "succeeded" else ""
        say(f"schedule {tick.schedule} {tick.tick}: {tick.status}{run}{message}")


__all__ = ["worker"]
