"""W7's harness for the peer scripts: each run a fresh child process timed from start to exit,
a first run on an empty home then the cached (or resumed) re-run on the same home, and the
floor (a plain Python process calling 200 functions) measured with the same interpreter.

Imported by the peer scripts beside it (their folder is first on ``sys.path``); imports
neither gnomon nor bench, whose ``bench/workloads/w7.py`` keeps the gnomon side's copy.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
CHAIN_STEPS, WIDTH = 200, 200
LIMIT_REPS = 3
# kind -> (steps, expected result): the chain counts up to 200, the join sums 2*i
KINDS = {"chain": (CHAIN_STEPS, CHAIN_STEPS), "fan": (WIDTH + 1, sum(2 * i for i in range(WIDTH)))}


def limit_job() -> dict[str, Any]:
    functions = [lambda x: x + 1 for _ in range(CHAIN_STEPS)]
    value = 0
    for function in functions:
        value = function(value)
    return {"result": value, "run_s": time.perf_counter() - STARTED}


@dataclass
class Peer:
    """How one peer runs a W7 job; the defaults run ``<script> --job <kind>`` and read the
    JSON line it prints."""

    name: str  # its distribution, for the version
    script: str
    env: Callable[[Path], dict[str, str]]
    cached: bool = True  # False: no cache (Dagster), the re-run is not measured
    command: Callable[[str, Path, bool], list[str]] | None = None
    read: Callable[[str, Path, str], dict[str, Any]] | None = None

    def argv(self, kind: str, home: Path, again: bool) -> list[str]:
        if self.command is not None:
            return self.command(kind, home, again)
        return [sys.executable, self.script, "--job", kind]


def child(args: list[str], env: dict[str, str], cwd: Path, label: str) -> tuple[float, str]:
    """Seconds of one child process, start to exit, and its stdout; raises if it fails."""
    out, err = cwd / f"{label}.stdout", cwd / f"{label}.stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        done = subprocess.run(args, stdout=stdout, stderr=stderr, env=env, cwd=cwd)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        logged = out.read_text() + "\n" + err.read_text()  # ZenML logs a step's error to stdout
        raise RuntimeError(f"{label}: exit {done.returncode}: {_errors(logged)}")
    return seconds, out.read_text()


def _errors(stderr: str) -> str:
    """The exception lines of a traceback (``module.SomeError: message``), else its tail."""
    found = re.findall(r"^[\w.]*(?:Error|Exception): .*$", stderr, flags=re.MULTILINE)
    lines = list(dict.fromkeys(found)) or [line for line in stderr.splitlines() if line.strip()]
    return " | ".join(lines[-3:])[-600:]


def _last_json(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            figures: dict[str, Any] = json.loads(line)
            return figures
    raise SystemExit("the job printed no JSON line")


def _floor(script: str, workdir: Path) -> float:
    command = [sys.executable, script, "--job", "limit"]
    return statistics.median(
        child(command, dict(os.environ), workdir, "limit")[0] for _ in range(LIMIT_REPS)
    )


def _run(peer: Peer, kind: str, home: Path, again: bool) -> dict[str, Any]:
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **peer.env(home)}
    label = f"{kind}-{'again' if again else 'first'}"
    seconds, stdout = child(peer.argv(kind, home, again), env, home, label)
    figures = peer.read(kind, home, stdout) if peer.read else _last_json(stdout)
    return {**figures, "seconds": seconds}


def _series(peer: Peer, kind: str, workdir: Path, floor: float) -> dict[str, Any]:
    home = workdir / f"home-{kind}"
    steps, expected = KINDS[kind]
    try:
        first = _run(peer, kind, home, again=False)
    except RuntimeError as exc:  # one kind failing (ZenML's wide join) keeps the others
        return {f"{kind}_error": str(exc), f"{kind}_ok": False}
    out = {f"{kind}_{key}": value for key, value in first.items()}
    out[f"{kind}_steps"] = steps
    out[f"{kind}_overhead_ms"] = (first["seconds"] - floor) * 1000 / steps
    if first.get("run_s") is not None:
        out[f"{kind}_run_ms_per_step"] = first["run_s"] * 1000 / steps
    ok = first.get("result") == expected
    if peer.cached:
        try:
            cached = _run(peer, kind, home, again=True)
        except RuntimeError as exc:
            return {**out, f"{kind}_error": str(exc), f"{kind}_ok": False}
        out[f"{kind}_cached_seconds"] = cached["seconds"]
        out[f"{kind}_cached_run_s"] = cached.get("run_s")
        out[f"{kind}_cached_import_s"] = cached.get("import_s")
        out[f"{kind}_cached_steps"] = cached.get("cached_steps")
        ok = ok and cached.get("result") == expected
    out[f"{kind}_ok"] = ok
    return out


def main(peer: Peer, job: Callable[[str], dict[str, Any]]) -> None:
    """``--job KIND`` runs one job here and prints its JSON line; otherwise drives the series."""
    if "--job" in sys.argv:
        kind = sys.argv[sys.argv.index("--job") + 1]
        print(json.dumps(limit_job() if kind == "limit" else job(kind)), flush=True)
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args()
    sizes = json.loads(args.data.read_text())
    if (sizes["steps"], sizes["width"]) != (CHAIN_STEPS, WIDTH):
        sys.exit(f"w7_common.py builds {CHAIN_STEPS}/{WIDTH}, the data says {sizes}")
    # uv installs no .pyc files; compiled once here (untimed), as a pip install would
    compileall.compile_dir(sysconfig.get_paths()["purelib"], quiet=2, workers=0)
    compileall.compile_dir(Path(peer.script).parent, quiet=2)
    floor = _floor(peer.script, args.workdir)
    figures: dict[str, Any] = {"limit_seconds": floor}
    for kind in KINDS:
        figures.update(_series(peer, kind, args.workdir, floor))
    figures["ok"] = all(v for k, v in figures.items() if k.endswith("_ok"))
    from importlib.metadata import version

    figures["version"] = version(peer.name)
    print(json.dumps(figures), flush=True)
