"""PROF on gnomon: a 1,000,000-row, 20-column Parquet file versioned with ``gnomon data add``
(schema inference included), profiled to an HTML report with ``gnomon data profile NAME
--html``, and a second batch checked with ``gnomon data validate NAME FILE``; prints one JSON
line.

Each step is a fresh console-script process timed from start to exit, as a user runs it. Its
peak memory is the kernel's ``ru_maxrss`` for that one child, read with ``os.wait4`` (what
``resource.getrusage(RUSAGE_CHILDREN)`` reports, but per child rather than the largest so far).
"""

from __future__ import annotations

import compileall
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.workloads._common import emit, load, parser

GNOMON = str(Path(sys.executable).with_name("gnomon"))  # the console script, as users run it
SOURCES = Path(__file__).resolve().parents[2] / "src" / "gnomon"
NAME = "prof"
ANOMALIES_EXIT = 3  # validate found anomalies: a result, not a failure


def _run(args: list[str], env: dict[str, str], workdir: Path) -> tuple[float, float, str]:
    """Seconds and peak resident MB of one ``gnomon`` process, and its stdout."""
    out, err = workdir / "stdout", workdir / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen([GNOMON, *args], env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if process.returncode not in (0, ANOMALIES_EXIT):
        tail = err.read_text(errors="replace").strip()[-800:]
        sys.exit(f"gnomon {' '.join(args)}: exit {process.returncode}: {tail}")
    return seconds, usage.ru_maxrss / 1024, out.read_text()  # Linux: ru_maxrss in KiB


def main() -> None:
    args = parser().parse_args()
    data = load(args.data)
    env = {**os.environ, "GNOMON_HOME": str(args.workdir / "gnomon")}
    compileall.compile_dir(SOURCES, quiet=2)  # as an installed package is (see w8.py)
    html = args.workdir / "x.html"
    figures: dict[str, Any] = {}
    steps = {
        "add": ["data", "add", data["table"], "--name", NAME, "--output", "json"],
        "profile": ["data", "profile", NAME, "--html", str(html)],
        "validate": ["data", "validate", NAME, data["batch"], "--output", "json"],
        "cached_profile": ["data", "profile", NAME, "--output", "json"],
    }
    outputs = {}
    for step, command in steps.items():
        seconds, peak_mb, outputs[step] = _run(command, env, args.workdir)
        figures[f"{step}_seconds"], figures[f"{step}_peak_mb"] = seconds, peak_mb
    startup, _, _ = _run(["version"], env, args.workdir)
    profile = json.loads(outputs["cached_profile"])
    report = json.loads(outputs["validate"])
    emit(
        {
            **figures,
            "startup_seconds": startup,
            "html_kb": html.stat().st_size / 1000,
            "rows": profile["rows"],
            "columns": len(profile["columns"]),
            "validated_rows": report["rows"],
            "anomalies": len(report["anomalies"]),
            "created": json.loads(outputs["add"]).get("created"),
        }
    )


if __name__ == "__main__":
    main()
