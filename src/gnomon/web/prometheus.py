"""Prometheus metrics that add up across worker processes, for both servers.

With ``--workers N`` each worker counts only the requests it answered. A scrape reaches one
worker, so Prometheus would see one worker's counters, then another's, and read every
switch as a counter reset, which breaks ``rate()``. prometheus-client's multiprocess mode
keeps each worker's values in files of one folder and sums them at scrape time; a process
chooses that mode when it imports prometheus-client, from ``PROMETHEUS_MULTIPROC_DIR``. So
the supervising process sets the variable (:func:`shared_across`) before it starts the
workers, and ``/metrics`` answers with :func:`exposition`. With one worker nothing is set
and the app's own registry answers: there is nothing to add up.

A gauge needs a ``multiprocess_mode`` saying how workers' values combine (``livesum`` for
requests in flight); counters and histograms are summed.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared_across(workers: int) -> Iterator[None]:
    """Around ``uvicorn.run`` in the supervising process: with several workers, a fresh
    folder only this user can read (0700) for their metrics, removed on exit."""
    if workers == 1:
        yield
        return
    # Fresh, so no counts of an earlier server are added in; private, as metrics name routes.
    folder = tempfile.mkdtemp(prefix="gnomon-metrics-")
    previous = os.environ.get(MULTIPROCESS_ENV)
    os.environ[MULTIPROCESS_ENV] = folder  # spawned workers inherit it
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_ENV, None)
        else:
            os.environ[MULTIPROCESS_ENV] = previous
        shutil.rmtree(folder, ignore_errors=True)


def exposition(registry: CollectorRegistry) -> bytes:
    """The body of ``/metrics``: every worker's metrics summed, or ``registry``'s alone."""
    folder = os.environ.get(MULTIPROCESS_ENV)
    if not folder:
        return generate_latest(registry)
    _forget_exited_workers(folder)
    merged = CollectorRegistry()
    MultiProcessCollector(merged, folder)  # type: ignore[no-untyped-call]
    return generate_latest(merged)


def _forget_exited_workers(folder: str) -> None:
    # A worker that exited (a restart, a crash) keeps its counts, so totals never go down,
    # but its live gauges (requests in flight) must no longer count.
    for path in glob.glob(os.path.join(folder, "gauge_live*_*.db")):
        pid = path.rsplit("_", 1)[1].removesuffix(".db")
        if pid.isdigit() and not _alive(int(pid)):
            mark_process_dead(int(pid), folder)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:  # gone, or the id now belongs to another user's process
        return False
    return True


__all__ = ["MULTIPROCESS_ENV", "exposition", "shared_across"]
