"""W8 on gnomon: version a folder of random 1 MiB files with ``gnomon data add``, re-version it
unchanged, rewrite 10 files and version again; prints one JSON line.

Each step is a fresh console-script process timed from start to exit, as a user runs it, on
this side's own copy of the files (the change step rewrites them). ``gnomon version`` gives the
CLI's own start-up, so ``readd_over_startup_s`` is what the unchanged check itself costs. The
warm read of the same files (1 MiB buffers, one process) is the floor for anything that reads
every byte.
"""

from __future__ import annotations

import compileall
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.workloads._common import emit, load, parser

GNOMON = str(Path(sys.executable).with_name("gnomon"))  # the console script, as users run it
SOURCES = Path(__file__).resolve().parents[2] / "src" / "gnomon"
BUFFER = 1 << 20
STARTUP_REPS = 3


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Seconds of one ``gnomon`` process and its stdout; exits with its stderr if it failed."""
    started = time.perf_counter()
    done = subprocess.run([GNOMON, *args], env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"gnomon {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()[-800:]}")
    return seconds, done.stdout


def _add(folder: Path, env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    seconds, out = _timed(["data", "add", str(folder), "--name", "w8", "--output", "json"], env)
    answer: dict[str, Any] = json.loads(out)
    return seconds, answer


def _startup(env: dict[str, str]) -> tuple[float, str]:
    """Median seconds of ``gnomon version`` after one warm-up, and the version it prints."""
    _, version = _timed(["version"], env)
    seconds = statistics.median(_timed(["version"], env)[0] for _ in range(STARTUP_REPS))
    return seconds, version.strip()


def _read_all(paths: list[Path]) -> float:
    buffer = bytearray(BUFFER)
    started = time.perf_counter()
    for path in paths:
        with path.open("rb", buffering=0) as handle:
            while handle.readinto(buffer):
                pass
    return time.perf_counter() - started


def _rewrite(folder: Path, names: list[str], seed: int, size: int) -> None:
    """The change step, in place, with the bytes the peer script writes too."""
    for index, name in enumerate(names):
        (folder / name).write_bytes(random.Random(seed + index).randbytes(size))


def main() -> None:
    args = parser().parse_args()
    data = load(args.data)
    folder = args.workdir / "files"
    shutil.copytree(data["folder"], folder)  # not timed; leaves the files in the page cache
    # The copy's writeback is the setup's, not the timed add's (whose sync would wait for it).
    os.sync()
    env = {**os.environ, "GNOMON_HOME": str(args.workdir / "gnomon")}
    # As an installed package is, and as the peer script does with DVC's venv: where
    # PYTHONDONTWRITEBYTECODE is set, each process would otherwise compile what it imports.
    compileall.compile_dir(SOURCES, quiet=2)
    paths = sorted(folder.iterdir())
    _read_all(paths)  # warm-up: the timed read below is the warm one
    raw_read = _read_all(paths)
    startup, version = _startup(env)
    add, first = _add(folder, env)
    readd, again = _add(folder, env)
    _rewrite(folder, data["changed"], data["change_seed"], data["file_bytes"])
    os.sync()
    change, third = _add(folder, env)
    gigabytes = data["files"] * data["file_bytes"] / 1e9
    emit(
        {
            "add_seconds": add,
            "readd_seconds": readd,
            "change_seconds": change,
            "startup_seconds": startup,
            "readd_over_startup_s": readd - startup,
            "raw_read_seconds": raw_read,
            "add_gb_per_s": gigabytes / add,
            "raw_gb_per_s": gigabytes / raw_read,
            "files": first.get("files"),
            "bytes": first.get("bytes"),
            "readd_unchanged": again.get("version") == first.get("version")
            and again.get("created") is False,
            "change_new_version": third.get("created") is True
            and third.get("version") == first.get("version", 0) + 1,
            "new_objects_after_change": third.get("new_objects"),
            "version": version,
        }
    )


if __name__ == "__main__":
    main()
