"""Tracking servers for the over-HTTP workloads: start one in its own process group, wait
until it answers its health check, stop the whole group (workers included) afterwards."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bench.venvs import MLFLOW

HOST = "127.0.0.1"
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0
REPO_SRC = Path(__file__).resolve().parent.parent / "src"


@dataclass(frozen=True, slots=True)
class Server:
    """``gnomon server`` or ``mlflow server`` (from the peer venv) with ``workers`` workers."""

    system: Literal["gnomon", "mlflow"]
    workers: int

    @property
    def health(self) -> str:
        return "/healthz" if self.system == "gnomon" else "/health"

    def command(self, port: int, workdir: Path) -> list[str]:
        net = ["--host", HOST, "--port", str(port), "--workers", str(self.workers)]
        if self.system == "gnomon":
            return [str(Path(sys.executable).parent / "gnomon"), "server", *net, "--no-auth"]
        store = ["--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}"]
        artifacts = ["--default-artifact-root", str(workdir / "artifacts")]
        return [str(MLFLOW.python.parent / "mlflow"), "server", *store, *artifacts, *net]

    def env(self, workdir: Path) -> dict[str, str]:
        if self.system == "gnomon":
            return {"GNOMON_HOME": str(workdir / "server"), "PYTHONPATH": str(REPO_SRC)}
        return {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _tail(log: Path, lines: int = 6) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return " | ".join(text.strip().splitlines()[-lines:])


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, SIGKILL it after ``STOP_TIMEOUT_S``, then reap stragglers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(STOP_TIMEOUT_S)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def running(server: Server, workdir: Path, env: Mapping[str, str]) -> Iterator[str]:
    """Start ``server`` on a free port with its state under ``workdir``; yield its base URL.

    Raises ``RuntimeError`` (with the server log's tail) when it exits or does not answer
    ``server.health`` with 200 within ``START_TIMEOUT_S``. Always stops the process group.
    """
    port = free_port()
    command = server.command(port, workdir)
    with serving(command, port, server.health, workdir / "server.log", env, server.env(workdir)):
        yield f"http://{HOST}:{port}"


@contextlib.contextmanager
def serving(
    command: list[str],
    port: int,
    health: str,
    log: Path,
    env: Mapping[str, str],
    extra_env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[str]:
    """Run ``command`` (which listens on ``port``) in its own process group, output to ``log``;
    yield its base URL once ``GET health`` answers 200. Always stops the process group."""
    url = f"http://{HOST}:{port}"
    name = Path(command[0]).name
    with log.open("wb") as out:
        try:
            process = subprocess.Popen(
                command,
                env={**env, **(extra_env or {})},
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() reaches every worker
            )
        except OSError as exc:
            raise RuntimeError(f"cannot start {name}: {exc}") from exc
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(url + health):
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited {process.returncode}: {_tail(log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not up in {START_TIMEOUT_S:.0f} s: {_tail(log)}")
            time.sleep(0.1)
        yield url
    finally:
        stop(process)
