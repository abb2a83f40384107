"""`gnomon serve --workers 2` as a real process: whichever worker answers a scrape of
/metrics reports the predictions of both."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx

from tests.fixtures.processes import GNOMON, free_port, wait_until_answers
from tests.fixtures.workers import (
    counted_by,
    metrics_folder,
    scraped,
    send_until_every_worker_answered,
    worker_pids,
)
from tests.integration.serving.small_server import register_classifier

PREDICT = {"method": "POST", "route": "/predict", "status": "200"}


def test_metrics_count_the_predictions_of_every_worker(gnomon_home: Path) -> None:
    register_classifier("counted")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = ["serve", "models:/counted@production", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(
        [GNOMON, *argv, "--no-records"],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_answers(f"{url}/readyz", proc)
        workers = worker_pids(proc.pid)
        folder = metrics_folder(min(workers))

        def predict() -> None:  # a new connection each time
            answer = httpx.post(f"{url}/predict", json={"x": 2.0, "y": 0.0})
            assert answer.status_code == 200, answer.text

        sent = send_until_every_worker_answered(
            predict,
            lambda pid: counted_by(folder, pid, "gnomon_http_requests_total", PREDICT),
            workers,
        )
        requests = [scraped(f"{url}/metrics", "gnomon_http_requests_total", PREDICT)]
        rows = [scraped(f"{url}/metrics", "gnomon_predictions_total", {"model": "counted"})]
        for _ in range(4):
            requests.append(scraped(f"{url}/metrics", "gnomon_http_requests_total", PREDICT))
            rows.append(scraped(f"{url}/metrics", "gnomon_predictions_total", {"model": "counted"}))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert len(workers) == 2
    assert requests == [sent] * 5 and rows == [sent] * 5
    assert not folder.exists()  # removed when the server stops
