"""W8 on DVC: ``dvc add`` of a folder of random 1 MiB files, re-added unchanged, then 10 files
rewritten and added again, with the cache in copy mode (DVC's default, set explicitly); then the
first add again in a fresh repository with ``cache.type hardlink``. Prints one JSON line.

Runs inside the DVC peer venv (``bench/.peers/dvc``); imports neither gnomon nor bench. Each
``dvc`` command is a fresh process timed from start to exit, in a git + DVC repository made
(not timed) around this side's own copy of the files. Analytics are off (``DVC_NO_ANALYTICS``)
and DVC's site cache (its hash and index databases) lives under ``--workdir``, so every run
starts cold the way a new repository does.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

DVC = str(Path(sys.executable).with_name("dvc"))
STARTUP_REPS = 3
FIELDS = re.compile(r"^[\s-]*(md5|size|nfiles): (\S+)$", re.MULTILINE)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    return parser.parse_args()


def _byte_compile() -> None:
    """Compile the venv's sources, as a pip install does: uv installs no ``.pyc`` files and,
    where ``PYTHONDONTWRITEBYTECODE`` is set, every ``dvc`` process would compile DVC anew
    (seconds each). Not timed; a no-op check (about 1 s) once done."""
    compileall.compile_dir(sysconfig.get_paths()["purelib"], quiet=2, workers=0)


def _timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    """Seconds of one ``dvc`` process and its stdout; exits with its stderr if it failed."""
    started = time.perf_counter()
    done = subprocess.run(
        [DVC, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"dvc {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()[-800:]}")
    return seconds, done.stdout


def _repo(workdir: Path, source: str, cache_type: str, env: dict[str, str]) -> Path:
    """A git + DVC repository holding a copy of the files in ``files/``."""
    repo = workdir / f"repo-{cache_type}"
    repo.mkdir()
    shutil.copytree(source, repo / "files")  # leaves the files in the page cache
    os.sync()  # the copy's writeback belongs to the setup, as on the gnomon side
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    _timed(["init", "-q"], repo, env)
    _timed(["config", "cache.type", cache_type], repo, env)
    return repo


def _tracked(repo: Path) -> dict[str, str]:
    """``md5`` (of the folder's manifest), ``size`` and ``nfiles`` from ``files.dvc``."""
    return dict(FIELDS.findall((repo / "files.dvc").read_text()))


def _objects(repo: Path) -> int:
    """File objects in the cache, the ``.dir`` manifests left out."""
    cache = repo / ".dvc" / "cache"
    return sum(1 for p in cache.rglob("*") if p.is_file() and not p.name.endswith(".dir"))


def _rewrite(folder: Path, names: list[str], seed: int, size: int) -> None:
    """The change step, in place, with the bytes the gnomon side writes too."""
    for index, name in enumerate(names):
        (folder / name).write_bytes(random.Random(seed + index).randbytes(size))


def _startup(workdir: Path, env: dict[str, str]) -> tuple[float, str]:
    """Median seconds of ``dvc --version`` after one warm-up, and the version it prints."""
    _, version = _timed(["--version"], workdir, env)
    seconds = statistics.median(_timed(["--version"], workdir, env)[0] for _ in range(STARTUP_REPS))
    return seconds, version.strip()


def _copy_mode(workdir: Path, data: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    repo = _repo(workdir, data["folder"], "copy", env)
    add = _timed(["add", "files"], repo, env)[0]
    first, objects = _tracked(repo), _objects(repo)
    readd = _timed(["add", "files"], repo, env)[0]
    unchanged = _tracked(repo) == first and _objects(repo) == objects
    _rewrite(repo / "files", data["changed"], data["change_seed"], data["file_bytes"])
    os.sync()
    change = _timed(["add", "files"], repo, env)[0]
    changed = _tracked(repo)["md5"] != first["md5"]
    new_objects = _objects(repo) - objects
    shutil.rmtree(repo)  # room for the hardlink repository's copy
    return {
        "add_seconds": add,
        "readd_seconds": readd,
        "change_seconds": change,
        "add_gb_per_s": data["files"] * data["file_bytes"] / 1e9 / add,
        "files": int(first["nfiles"]),
        "bytes": int(first["size"]),
        "readd_unchanged": unchanged,
        "change_new_version": changed,
        "new_objects_after_change": new_objects,
    }


def main() -> None:
    args = _parse()
    data = json.loads(args.data.read_text())
    site = str(args.workdir / "site-cache")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": site}
    _byte_compile()
    startup, version = _startup(args.workdir, env)
    figures = _copy_mode(args.workdir, data, env)
    hardlinked = _repo(args.workdir, data["folder"], "hardlink", env)
    figures["hardlink_add_seconds"] = _timed(["add", "files"], hardlinked, env)[0]
    figures["readd_over_startup_s"] = figures["readd_seconds"] - startup
    figures.update({"startup_seconds": startup, "version": version})
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
