"""Runs each side of a workload in a fresh process per repetition and aggregates medians."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import data, servers, venvs
from bench.specs import REPO, Side, Workload


@dataclass(slots=True)
class Options:
    reps: int = 3
    quick: bool = False
    peers: bool = True
    query_reps: int = 20
    duration: float = 20.0


@dataclass(slots=True)
class SideResult:
    """Every repetition's figures of one system, and the errors of those that failed."""

    system: str
    samples: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def median(self, figure: str) -> float | None:
        values = [
            s[figure]
            for s in self.samples
            if isinstance(s.get(figure), int | float) and not isinstance(s[figure], bool)
        ]
        return statistics.median(values) if values else None

    def summary(self) -> dict[str, Any]:
        """Median of every numeric figure; others (a version, a flag) from the first sample."""
        out: dict[str, Any] = {}
        for key in self.samples[0] if self.samples else ():
            median = self.median(key)
            out[key] = median if median is not None else self.samples[0][key]
        return out


@dataclass(slots=True)
class WorkloadResult:
    workload: Workload
    expected: dict[str, Any]
    sides: dict[str, SideResult]


def _sides(workload: Workload, options: Options) -> list[Side]:
    return [s for s in workload.sides if options.peers or s.needs is None]


def _parse_output(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            figures: dict[str, Any] = json.loads(line)
            return figures
    raise ValueError("no JSON line in the output")


def _measure(side: Side, workload: Workload, data_file: Path, options: Options) -> dict[str, Any]:
    extra = ("--query-reps", str(options.query_reps)) if workload.queries else ()
    if workload.serving:
        extra = ("--duration", str(options.duration))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GNOMON_", "MLFLOW_"))}
    env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory(prefix=f"{side.system}-", dir=data_file.parent) as tmp:
        workdir = Path(tmp)
        server: contextlib.AbstractContextManager[str | None] = (
            servers.running(side.server, workdir, env) if side.server else contextlib.nullcontext()
        )
        with server as url:
            # No process starts with the previous one's writes still in the page cache: its
            # first fsync would wait for them (the peer's writes, gnomon's, or the data's).
            os.sync()
            done = subprocess.run(
                side.command(data_file, workdir, extra),
                cwd=REPO,
                env={**env, **side.env(workdir, url)},
                capture_output=True,
                text=True,
                timeout=workload.timeout_s,
            )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-6:]
        raise RuntimeError(f"exit {done.returncode}: " + " | ".join(tail))
    figures = _parse_output(done.stdout)
    if side.server is not None:
        figures["workers"] = side.server.workers
    return figures


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _plan(sides: list[Side], options: Options) -> list[Side]:
    """Interleave repetitions, rotating the order, so noise falls on every system alike."""
    plan: list[Side] = []
    for rep in range(options.reps):
        turn = sides[rep % len(sides) :] + sides[: rep % len(sides)]
        plan += [s for s in turn if not (options.quick and s.slow and rep > 0)]
    return plan


def _record(result: SideResult, workload: Workload, measure: Callable[[], dict[str, Any]]) -> None:
    label = f"{workload.name} {result.system} rep {len(result.samples) + len(result.errors) + 1}"
    started = time.perf_counter()
    try:
        figures = measure()
    except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
        result.errors.append(str(exc))
        _log(f"{label}: FAILED {exc}")
        return
    result.samples.append(figures)
    headline, wall = workload.figures[0], time.perf_counter() - started
    value = figures.get(headline)
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    _log(f"{label}: {headline} {shown} (process {wall:.1f} s)")


def run(workload: Workload, options: Options) -> WorkloadResult:
    """Measure every side of ``workload`` ``options.reps`` times, each in a clean process."""
    sides = _sides(workload, options)
    for peer in {s.needs for s in sides if s.needs is not None}:
        venvs.ensure(peer)
    results = {s.system: SideResult(s.system) for s in sides}
    with tempfile.TemporaryDirectory(prefix=f"bench-{workload.name}-") as root:
        data_file = data.write(workload.name, Path(root))
        expected = workload.expect(json.loads(data_file.read_text()))
        for side in _plan(sides, options):
            measure = functools.partial(_measure, side, workload, data_file, options)
            _record(results[side.system], workload, measure)
    return WorkloadResult(workload, expected, results)
