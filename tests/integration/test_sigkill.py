"""A process killed with SIGKILL mid-logging leaves the store intact, losing at most the
unflushed tail."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import gnomon
from gnomon.tracking.entities import RunStatus

LOGGER = """
import sys, gnomon
run = gnomon.start_run(name="doomed")
print(run.id, flush=True)
step = 0
while True:
    gnomon.log_metric("loss", 1.0 / (step + 1), step=step)
    step += 1
    if step % 1000 == 0:
        gnomon.flush()
        print(step, flush=True)  # everything below this step is durable
"""


def test_sigkill_loses_at_most_the_unflushed_tail(gnomon_home: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", LOGGER], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    flushed = 0
    while flushed < 5000:
        flushed = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    database = gnomon_home / "gnomon.db"
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    client = gnomon.Client()
    run = client.get_run(run_id)
    assert run.status is RunStatus.RUNNING  # nobody ended it
    steps = [m.step for m in client.get_metric_history(run_id, "loss")]
    assert len(steps) >= flushed  # nothing flushed was lost
    assert steps == list(range(len(steps)))  # and what is there has no holes
    assert run.metrics["loss"] == 1.0 / len(steps)
    # The store still takes writes.
    client.log_metric(run_id, "after", 1.0)
    assert client.end_run(run_id).status is RunStatus.FINISHED
