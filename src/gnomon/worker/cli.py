"""``gnomon worker``: run scheduled monitors until stopped (Ctrl-C or SIGTERM)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from gnomon.cli.output import format_time, say, state_of
from gnomon.errors import InvalidInput
from gnomon.monitoring.entities import MonitorRun


def worker(
    ctx: typer.Context,
    interval: Annotated[
        float, typer.Option(min=1, max=3600, help="Seconds between looks at the schedule.")
    ] = 30,
    once: Annotated[bool, typer.Option(help="One round, then exit (cron, tests).")] = False,
) -> None:
    """Run scheduled monitors (with a lease per monitor, so workers share the work)."""
    from gnomon.backends import is_server, open_services
    from gnomon.monitoring.service import MonitorService
    from gnomon.worker.loop import run_forever

    settings = state_of(ctx).settings
    if is_server(settings.uri or ""):
        raise InvalidInput(
            "gnomon worker runs beside the metadata database: set GNOMON_URI to the database "
            "(postgresql://... or sqlite:///...), not to a server"
        )
    # The server's copy: a webhook a client configured must not reach this network either.
    monitors = open_services(settings).for_server().get(MonitorService)
    stop = threading.Event()
    if once:
        stop.set()
        _said(monitors.run_due())
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    say(f"Worker running scheduled monitors every {interval:g}s; Ctrl-C stops it")
    run_forever(monitors, interval, stop, _said)


def _said(runs: list[MonitorRun]) -> None:
    for run in runs:
        if run.skipped:
            say(f"{run.monitor}: skipped, {run.skipped}")
        elif run.windows:
            say(
                f"{run.monitor}: {len(run.windows)} window(s) up to {format_time(run.watermark_ms)}"
            )


__all__ = ["worker"]
