"""Several processes logging to one embedded store at once: nobody fails on a lock, nothing
is lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gnomon

WRITER = """
import sys, gnomon
gnomon.set_experiment("shared")
with gnomon.start_run(name=f"writer-{sys.argv[1]}") as run:
    gnomon.log_param("writer", sys.argv[1])
    for step in range(2000):
        gnomon.log_metric("loss", step, step=step)
        if step % 250 == 0:
            gnomon.flush()
print(run.id)
"""


def test_parallel_processes_share_one_sqlite_store(gnomon_home: Path) -> None:
    env = {**os.environ, "GNOMON_FLUSH_INTERVAL": "0.01"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(n)], stdout=subprocess.PIPE, text=True, env=env
        )
        for n in range(4)
    ]
    run_ids = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        run_ids.append(out.strip())

    client = gnomon.Client()
    page = client.search_runs("shared", "status = 'FINISHED'")
    assert sorted(run.id for run in page) == sorted(run_ids)
    for run_id in run_ids:
        steps = [m.step for m in client.get_metric_history(run_id, "loss")]
        assert steps == list(range(2000))
