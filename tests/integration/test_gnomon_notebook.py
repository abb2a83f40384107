"""``gnomon notebook`` as a user starts it: a real JupyterLab on loopback, whose kernels get the
workspace, the URI and the saved token in their environment, and nowhere else."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gnomon.client.credentials import save_token
from tests.fixtures.processes import GNOMON, free_port, wait_until_answers

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")

# Jupyter refuses root unless told; a container's CI often is root.
AS_ROOT = ["--", "--allow-root"] if os.geteuid() == 0 else []


@dataclass
class Lab:
    proc: subprocess.Popen[str]
    url: str
    port: int
    headers: dict[str, str]
    server: str  # the gnomon server the kernels are pointed at (nothing listens there)
    secret: str  # the saved session token for it


def _jupyter_env(tmp_path: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GNOMON_")}
    # No user's Jupyter configuration, runtime files or settings: this test's own.
    for name in ("CONFIG", "DATA", "RUNTIME"):
        env[f"JUPYTER_{name}_DIR"] = str(tmp_path / "jupyter" / name.lower())
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["GNOMON_HOME"] = str(home)
    return env


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    home, folder = tmp_path / "home", tmp_path / "notebooks"
    folder.mkdir()
    server, secret = f"http://127.0.0.1:{free_port()}", secrets.token_urlsafe(24)
    save_token(home, server, secret)  # as gnomon login does
    env = _jupyter_env(tmp_path, home)
    env["GNOMON_URI"] = server
    env["JUPYTER_TOKEN"] = jupyter_token = secrets.token_hex(16)
    port = free_port()
    command = [GNOMON, "notebook", str(folder), "--port", str(port), "--no-browser"]
    proc = subprocess.Popen(
        [*command, "--workspace", "lab-team", *AS_ROOT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{url}/api/status?token={jupyter_token}", proc)
        yield Lab(proc, url, port, {"Authorization": f"token {jupyter_token}"}, server, secret)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _environ(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return dict(p.split("=", 1) for p in pairs if "=" in p)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode()
    except OSError:  # gone meanwhile
        return ""


def _listening_on(port: int) -> set[str]:
    """The local addresses listening on ``port``, as /proc/net/tcp{,6} spell them."""
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_kernels_get_the_workspace_uri_and_token_from_the_environment_only(lab: Lab) -> None:
    environ = _environ(lab.proc.pid)  # gnomon notebook became JupyterLab: the same process
    assert environ["GNOMON_URI"] == lab.server
    assert environ["GNOMON_WORKSPACE"] == "lab-team"
    assert environ["GNOMON_TOKEN"] == lab.secret
    assert Path(environ["GNOMON_HOME"]).is_absolute()
    cmdline = Path(f"/proc/{lab.proc.pid}/cmdline").read_bytes().decode()
    assert "jupyterlab" in cmdline and lab.secret not in cmdline
    assert _listening_on(lab.port) == {"0100007F"}  # 127.0.0.1, and nothing else

    started = httpx.post(f"{lab.url}/api/kernels", json={"name": "python3"}, headers=lab.headers)
    assert started.status_code == 201, started.text
    # JupyterLab may run short-lived helpers of its own beside the kernel: find the kernel.
    (kernel,) = [c for c in _children(lab.proc.pid) if "ipykernel" in _cmdline(c)]
    inherited = _environ(kernel)
    assert inherited["GNOMON_TOKEN"] == lab.secret and inherited["GNOMON_WORKSPACE"] == "lab-team"

    lab.proc.send_signal(signal.SIGTERM)  # as a supervisor stops it: kernels go with it
    output, _ = lab.proc.communicate(timeout=30)
    assert lab.proc.returncode == 0, output
    assert not Path(f"/proc/{kernel}").exists()
    assert lab.secret not in output
    assert output.startswith("JupyterLab in ")
    assert f"kernels use {lab.server}, workspace 'lab-team'" in output.splitlines()[0]


def test_listening_beyond_loopback_is_said_out_loud(tmp_path: Path) -> None:
    env = _jupyter_env(tmp_path, tmp_path / "home")
    command = [GNOMON, "notebook", str(tmp_path), "--ip", "0.0.0.0", "--port", str(free_port())]
    proc = subprocess.Popen(
        [*command, "--no-browser", *AS_ROOT], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # printed before JupyterLab starts
        assert first.startswith("warning: JupyterLab listens on 0.0.0.0: anyone who reaches it")
    finally:
        proc.kill()
        proc.wait(timeout=10)
