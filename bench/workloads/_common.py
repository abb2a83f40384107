"""Helpers shared by the gnomon side of the workloads (the peer scripts keep their own copy)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

FILTER = "metrics.acc > 0.9 and params.model = 'rf'"
ORDER_BY = ["metrics.f1 DESC"]


def parser() -> argparse.ArgumentParser:
    """Arguments every workload script takes: the data file and a scratch folder."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    return parser


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def median_ms(call: Callable[[], T], reps: int) -> tuple[float, T]:
    """Median milliseconds of ``call`` over ``reps`` timed calls after one warm-up; its result."""
    result = call()
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), result


def emit(figures: dict[str, Any]) -> None:
    """Print the figures as the one JSON line the runner reads."""
    print(json.dumps(figures), flush=True)


def run_child(args: list[str], workdir: Path, label: str) -> tuple[float, float, str]:
    """Seconds and peak resident MB (``wait4``'s; it survives exec, so a parent's own size
    shows through) of one child process, and its stdout; exits naming ``label`` if it fails."""
    out, err = workdir / "stdout", workdir / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(args, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if process.returncode != 0:
        sys.exit(f"{label} job: exit {process.returncode}: {err.read_text().strip()[-800:]}")
    return seconds, usage.ru_maxrss / 1024, out.read_text()  # Linux: ru_maxrss in KiB
