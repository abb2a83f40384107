"""`gnomon serve` as a real process: starts, answers, fails clearly on an unknown model."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

import gnomon

GNOMON = str(Path(sys.executable).with_name("gnomon"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_a_registered_model(gnomon_home: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=50), "y": rng.normal(size=50)})
    model = LogisticRegression().fit(frame, (frame["x"] > 0).astype(int))
    with gnomon.start_run():
        uri = gnomon.log_model(model, "model", input_example=frame)
    gnomon.register_model(uri, "served", alias="production")
    gnomon.flush()

    port = _free_port()
    proc = subprocess.Popen(
        [GNOMON, "serve", "models:/served@production", "--port", str(port)],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/healthz", proc)
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


def _wait(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gnomon serve exited: {proc.communicate()[0]}")
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")
