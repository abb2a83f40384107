"""W7 on gnomon: pipeline overhead. A 200-step chain of trivial steps and a 200-wide fan-out
joined by one step, each run twice on one fresh ``GNOMON_HOME`` (first run, then fully cached),
every run a fresh child process (``--job``) timed from its start to its exit; prints one JSON
line.

``--system gnomon`` measures the chain and the fan-out with the local executor, and the chain
once more as users run it from a shell (``gnomon pipeline run``: ``chain_cli_*``), ``wide`` the
1,000-branch fan-out, ``ray`` the chain on the Ray executor (a local ``ray.init``), ``limit``
only the floor: a plain Python process calling the same 200 functions. Every system measures
that floor itself (median of three, with the same harness as its job), and its ``*_overhead_ms``
is (whole process - floor) / steps. The child reports what happened inside: ``import_s``
(``import gnomon`` and the steps), ``open_s`` (the client and its database),
``setup_s`` (run start to the first step's event: run record, executor and fork server),
``steps_s`` (first to last step event), ``close_s`` (last event to return: records flushed,
workers stopped) and ``run_s`` (the whole ``run_pipeline`` call).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
LIMIT_REPS = 3
SOURCES = Path(__file__).resolve().parents[2] / "src" / "gnomon"
KINDS = {"gnomon": ("chain", "fan"), "wide": ("wide",), "ray": ("chain",), "limit": ()}


def _limit_job() -> dict[str, Any]:
    """The floor: 200 plain functions, called as a chain, in a process of its own."""
    functions = [lambda x: x + 1 for _ in range(200)]
    value = 0
    for function in functions:
        value = function(value)
    return {"result": value, "run_s": time.perf_counter() - STARTED}


def _job(kind: str, executor: str) -> dict[str, Any]:
    import gnomon
    from bench.workloads.w7_steps import pipeline as pipeline_of
    from gnomon.pipelines.fluent import pipelines_api

    imported = time.perf_counter()
    pipelines_api()  # the embedded client and its database, opened once per process
    opened = time.perf_counter()
    pipeline, node, steps, expected = pipeline_of(kind)
    events: list[float] = []
    called = time.perf_counter()
    result = gnomon.run_pipeline(
        pipeline, executor=executor, on_event=lambda *_: events.append(time.perf_counter())
    )
    done = time.perf_counter()
    counts = result.counts()
    first, last = (events[0], events[-1]) if events else (done, done)
    return {
        "result": result.output(node),
        "expected": expected,
        "steps": steps,
        "cached_steps": counts.get("cached", 0),
        "import_s": imported - STARTED,
        "open_s": opened - imported,
        "setup_s": first - called,
        "steps_s": last - first,
        "close_s": done - last,
        "run_s": done - called,
    }


def _child(args: list[str], home: Path, workdir: Path, label: str) -> dict[str, Any]:
    import os

    from bench.workloads._common import run_child

    os.environ["GNOMON_HOME"] = str(home)  # inherited by the child
    seconds, peak_mb, out = run_child(
        [sys.executable, "-m", "bench.workloads.w7", *args], workdir, label
    )
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return {**figures, "seconds": seconds, "peak_mb": peak_mb}


def _series(kind: str, executor: str, workdir: Path, floor: float) -> dict[str, Any]:
    """First run on an empty home, then the cached re-run on the same home."""
    home = workdir / f"home-{kind}-{executor}"
    args = ["--job", kind, "--executor", executor]
    first = _child(args, home, workdir, f"{kind} first run")
    cached = _child(args, home, workdir, f"{kind} cached run")
    steps = first["steps"]
    name = "chain" if kind == "chain" else "fan"
    out = {f"{name}_{key}": value for key, value in first.items() if key not in ("expected",)}
    out.update(
        {
            f"{name}_overhead_ms": (first["seconds"] - floor) * 1000 / steps,
            f"{name}_run_ms_per_step": first["run_s"] * 1000 / steps,
            f"{name}_steps_ms_per_step": first["steps_s"] * 1000 / steps,
            f"{name}_cached_seconds": cached["seconds"],
            f"{name}_cached_run_s": cached["run_s"],
            f"{name}_cached_import_s": cached["import_s"],
            f"{name}_cached_open_s": cached["open_s"],
            f"{name}_cached_steps": cached["cached_steps"],
            f"{name}_ok": first["result"] == cached["result"] == first["expected"]
            and cached["cached_steps"] == steps,
        }
    )
    if kind == "wide":
        out["width"] = steps - 1
    return out


def _cli_series(workdir: Path) -> dict[str, Any]:
    """The chain as users run it from a shell, ``gnomon pipeline run``, first then cached on
    a fresh home: the whole console-script process, timed as the SDK script is."""
    import os

    from bench.workloads._common import run_child
    from bench.workloads.w7_steps import CHAIN_STEPS

    gnomon = str(Path(sys.executable).with_name("gnomon"))
    command = [gnomon, "pipeline", "run", "bench.workloads.w7_steps:chain", "--output", "json"]
    os.environ["GNOMON_HOME"] = str(workdir / "home-chain-cli")
    first, _, _ = run_child(command, workdir, "chain through the CLI, first run")
    cached, _, out = run_child(command, workdir, "chain through the CLI, cached run")
    answer = json.loads(out)
    cached_steps = sum(1 for step in answer["steps"] if step["status"] == "cached")
    return {
        "chain_cli_seconds": first,
        "chain_cli_cached_seconds": cached,
        "chain_cli_ok": answer["run"]["status"] == "succeeded" and cached_steps == CHAIN_STEPS,
    }


def _ray_missing() -> bool:
    import importlib.util

    return importlib.util.find_spec("gnomon.pipelines.ray_executor") is None


def _floor(workdir: Path) -> float:
    import statistics

    from bench.workloads._common import run_child

    command = [sys.executable, "-m", "bench.workloads.w7", "--job", "limit"]
    return statistics.median(run_child(command, workdir, "limit")[0] for _ in range(LIMIT_REPS))


def _drive(system: str, workdir: Path) -> dict[str, Any]:
    from bench.workloads._common import emit

    if system == "ray" and _ray_missing():
        emit({"pending": "gnomon.pipelines.ray_executor is not there yet", "ok": False})
        return {}
    floor = _floor(workdir)
    figures: dict[str, Any] = {"limit_seconds": floor}
    if system == "limit":
        figures["chain_seconds"] = floor
        figures["ok"] = True
    executor = "ray" if system == "ray" else "local"
    for kind in KINDS[system]:
        figures.update(_series(kind, executor, workdir, floor))
    if system == "gnomon":
        figures.update(_cli_series(workdir))
    figures["ok"] = all(v for k, v in figures.items() if k.endswith("_ok")) or system == "limit"
    from importlib.metadata import version

    figures["version"] = "python" if system == "limit" else version("gnomon")
    emit(figures)
    return figures


def main() -> None:
    if "--job" in sys.argv:  # the child: as little imported as possible before its work
        job = sys.argv[sys.argv.index("--job") + 1]
        executor = sys.argv[sys.argv.index("--executor") + 1] if "--executor" in sys.argv else ""
        figures = _limit_job() if job == "limit" else _job(job, executor or "local")
        print(json.dumps(figures), flush=True)
        return
    import compileall

    from bench.workloads._common import parser

    arguments = parser()
    arguments.add_argument("--system", choices=sorted(KINDS), default="gnomon")
    args = arguments.parse_args()
    # as an installed package is (see w8.py): the children run with PYTHONDONTWRITEBYTECODE
    for folder in (SOURCES, Path(__file__).resolve().parent):
        compileall.compile_dir(folder, quiet=2)
    from bench.workloads._common import load
    from bench.workloads.w7_steps import CHAIN_STEPS, WIDE, WIDTH

    sizes = load(args.data)
    if (sizes["steps"], sizes["width"], sizes["wide"]) != (CHAIN_STEPS, WIDTH, WIDE):
        sys.exit(f"w7_steps.py builds {CHAIN_STEPS}/{WIDTH}/{WIDE}, the data says {sizes}")
    _drive(args.system, args.workdir)


if __name__ == "__main__":
    main()
