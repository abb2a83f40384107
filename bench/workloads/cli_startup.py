"""CLI start-up on gnomon: each command of the data file run as a fresh ``gnomon`` process,
``--query-reps`` times after one warm-up; prints the median wall milliseconds per command as
one JSON line (``<name>_ms``), and how many runs failed.

The commands touch no store (help texts and the version), so this is start-up alone: the
interpreter, Typer and the one capability a command imports.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.workloads._common import emit, load, parser

GNOMON = str(Path(sys.executable).with_name("gnomon"))  # the console script, as users run it


def _run(args: list[str], env: dict[str, str]) -> tuple[float, bool]:
    started = time.perf_counter()
    done = subprocess.run([GNOMON, *args], env=env, capture_output=True, check=False)
    return (time.perf_counter() - started) * 1000, done.returncode == 0


def main() -> None:
    cli = parser()
    cli.add_argument("--query-reps", type=int, default=20)
    args = cli.parse_args()
    commands: dict[str, list[str]] = load(args.data)["commands"]
    env = {**os.environ, "GNOMON_HOME": str(args.workdir / "gnomon"), "COLUMNS": "100"}
    figures: dict[str, float | int] = {"failures": 0, "reps": args.query_reps}
    for name, line in commands.items():
        _run(line, env)  # warm-up: bytecode caches, the page cache
        samples = []
        for _ in range(args.query_reps):
            ms, ok = _run(line, env)
            samples.append(ms)
            figures["failures"] += 0 if ok else 1
        figures[f"{name}_ms"] = round(statistics.median(samples), 1)
    emit(figures)


if __name__ == "__main__":
    main()
