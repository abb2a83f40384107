"""Helpers shared by the gnomon side of the workloads (the peer scripts keep their own copy)."""

from __future__ import annotations

import argparse
import json
import statistics
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
