"""`gnomon serve` as a real process: starts, answers, fails clearly on an unknown model."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx

from tests.fixtures.processes import GNOMON, free_port, wait_until_answers
from tests.integration.serving.small_server import register_classifier


def test_serve_a_registered_model(gnomon_home: Path) -> None:
    register_classifier("served")

    port = free_port()
    proc = subprocess.Popen(
        [GNOMON, "serve", "models:/served@production", "--port", str(port)],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/healthz", proc)
        answer = httpx.post(
            f"http://127.0.0.1:{port}/predict", json={"records": [{"x": 2.0, "y": 0.0}]}
        )
        assert answer.status_code == 200 and answer.json()["predictions"] == [1]
        assert answer.headers["x-model-version"] == "1"
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert "serving served version 1 (sklearn)" in output


def test_unknown_model_is_a_start_up_error(gnomon_home: Path) -> None:
    done = subprocess.run(
        [GNOMON, "serve", "models:/ghost@production"],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "ghost" in done.stderr and "Traceback" not in done.stderr


def test_unknown_deployment_or_both_targets_are_start_up_errors(gnomon_home: Path) -> None:
    for argv, expected in (
        (["--deployment", "ghost-api"], "deployment 'ghost-api' not found"),
        (["models:/m/1", "--deployment", "d"], "exactly one"),
        ([], "exactly one"),
    ):
        done = subprocess.run(
            [GNOMON, "serve", *argv],
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, argv
        assert expected in done.stderr and "Traceback" not in done.stderr, done.stderr
