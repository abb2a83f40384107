"""`gnomon serve --deployment` as a real multi-worker process: SIGHUP replaces every worker
under load without one failed request, and SIGTERM leaves every prediction recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

import gnomon
from tests.fixtures.processes import GNOMON, free_port, wait_until_answers


def _workers(master: int) -> set[int]:
    """The master's worker processes (not multiprocessing's resource tracker)."""
    found = set()
    for task in Path(f"/proc/{master}/task").iterdir():
        for pid in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"resource_tracker" not in cmdline:
                found.add(int(pid))
    return found


def test_sighup_restarts_workers_under_load_without_a_failed_request(gnomon_home: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=50), "y": rng.normal(size=50)})
    model = LogisticRegression().fit(frame, (frame["x"] > 0).astype(int))
    with gnomon.start_run():
        uri = gnomon.log_model(model, "model", input_example=frame)
    gnomon.register_model(uri, "churn", alias="production")
    gnomon.get_client().deployments.create("churn-api", "churn@production")
    gnomon.flush()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [GNOMON, "serve", "--deployment", "churn-api", "--port", str(port), "--workers", "2"],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    ok: list[str] = []
    failed: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                try:
                    answer = client.post(f"{url}/predict", json={"x": 0.5, "y": 0.1})
                except httpx.HTTPError as exc:
                    failed.append(repr(exc))
                    continue
                if answer.status_code == 200:
                    ok.append(answer.json()["request_id"])
                else:
                    failed.append(f"{answer.status_code} {answer.text}")

    try:
        wait_until_answers(f"{url}/readyz", proc)
        before = _workers(proc.pid)
        assert len(before) == 2
        threads = [threading.Thread(target=load) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 90
        while _workers(proc.pid) & before or len(_workers(proc.pid)) < 2:
            assert time.monotonic() < deadline, "the workers were not replaced"
            time.sleep(0.2)
        served_before_end = len(ok)
        time.sleep(1.0)  # the new workers answer too
        stop.set()
        for thread in threads:
            thread.join()
        assert len(ok) > served_before_end
    finally:
        stop.set()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    assert failed == [], (failed[:5], output)
    assert proc.returncode == 0, output
    records = gnomon.get_client().deployments.records("churn-api", with_outcomes=False)
    # Every answered request is recorded, by the worker that answered it, before it exited.
    assert sorted(records["request_id"]) == sorted(ok)
