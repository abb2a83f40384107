"""``gnomon ui``: the pages over the local store, on loopback only, without a login."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx

import gnomon
from tests.fixtures.processes import GNOMON, free_port, wait_until_answers


def test_gnomon_ui_shows_the_local_experiments(gnomon_home: Path) -> None:
    gnomon.set_experiment("local-work")
    with gnomon.start_run():
        gnomon.log_metric("loss", 0.5)
    port = free_port()
    env = {**os.environ, "GNOMON_HOME": str(gnomon_home)}
    proc = subprocess.Popen(
        [GNOMON, "ui", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_answers(f"{url}/healthz", proc)
        page = httpx.get(f"{url}/")
        assert page.status_code == 200  # no login form: loopback, one user
        assert "local-work" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_gnomon_ui_refuses_an_address_others_can_reach(gnomon_home: Path) -> None:
    env = {**os.environ, "GNOMON_HOME": str(gnomon_home)}
    done = subprocess.run(
        [GNOMON, "ui", "--host", "0.0.0.0", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "bind to 127.0.0.1" in done.stdout + done.stderr
