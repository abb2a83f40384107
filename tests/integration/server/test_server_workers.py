"""`gnomon server --workers 2` as a real process: /metrics counts every worker's requests, and
a client on loopback cannot choose the address that login limits and the audit log see."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from gnomon.auth.login import MAX_FAILURES_PER_ADDRESS
from tests.fixtures.processes import GNOMON, free_port, wait_until_answers
from tests.fixtures.workers import (
    counted_by,
    metrics_folder,
    scraped,
    send_until_every_worker_answered,
    worker_pids,
)

PASSWORD = "admin-password-123"
READYZ = {"method": "GET", "route": "/readyz", "status": "200"}


class Server(NamedTuple):
    url: str
    proc: subprocess.Popen[str]
    workers: set[int]
    metrics: Path  # the folder where the workers keep their counts


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("two-workers")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GNOMON_")}
    env |= {"GNOMON_HOME": str(home), "GNOMON_ADMIN_PASSWORD": PASSWORD}
    port = free_port()
    proc = subprocess.Popen(
        [GNOMON, "server", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{url}/healthz", proc)
        workers = worker_pids(proc.pid)
        folder = metrics_folder(min(workers))
        yield Server(url, proc, workers, folder)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert not folder.exists()  # removed when the server stops


def test_metrics_count_the_requests_of_every_worker(two_workers: Server) -> None:
    url, _, workers, folder = two_workers
    assert len(workers) == 2
    assert folder.stat().st_mode & 0o777 == 0o700

    sent = send_until_every_worker_answered(
        lambda: _ok(httpx.get(f"{url}/readyz")),  # a new connection each time
        lambda pid: counted_by(folder, pid, "gnomon_http_requests_total", READYZ),
        workers,
    )
    # Whichever worker answers a scrape reports the sum, so it never seems to go down.
    scrapes = [scraped(f"{url}/metrics", "gnomon_http_requests_total", READYZ) for _ in range(6)]
    assert scrapes == [sent] * 6


def test_a_forwarded_for_header_from_loopback_is_not_believed(two_workers: Server) -> None:
    login = "/api/v1/auth/login"
    with httpx.Client(base_url=two_workers.url) as http:
        token = http.post(login, json={"username": "admin", "password": PASSWORD}).json()["token"]
        # Each failure claims another address, to stay under the per-address limit.
        answers = [
            http.post(
                login,
                json={"username": f"nobody-{i}", "password": "wrong-password"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            )
            for i in range(MAX_FAILURES_PER_ADDRESS + 1)
        ]
        events = http.get(
            "/api/v1/audit",
            params={"everywhere": True},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["items"]
    assert [a.status_code for a in answers[:-1]] == [401] * MAX_FAILURES_PER_ADDRESS
    # The last is refused unchecked: every attempt counted against the one real address.
    assert "too many failed logins" in answers[-1].json()["error"]["message"]
    attempts = [e for e in events if e["actor"].startswith("nobody-")]
    assert len(attempts) >= MAX_FAILURES_PER_ADDRESS
    assert {e["address"] for e in attempts} == {"127.0.0.1"}


def _ok(answer: httpx.Response) -> None:
    assert answer.status_code == 200, answer.text
