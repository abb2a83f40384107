"""What a run records about where it ran: code version, entry point, Python, packages, host.

Captured off the caller's thread (the SDK's writer runs it), so ``start_run`` stays fast.
"""

from __future__ import annotations

import functools
import getpass
import importlib.metadata
import json
import os
import platform
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

TAG_PREFIX = "gnomon."
DIFF_ARTIFACT = "gnomon/git.diff"
REQUIREMENTS_ARTIFACT = "gnomon/requirements.txt"
_MAX_DIFF_BYTES = 5_000_000
# Internal: tags a launcher (``gnomon run``) gives every run its child process starts, as a
# JSON object; the project, ref, commit, entry point and params it ran.
RUN_TAGS_ENV = "_GNOMON_RUN_TAGS"


@dataclass(frozen=True, slots=True)
class RunContext:
    tags: dict[str, str] = field(default_factory=dict)
    diff: str | None = None
    requirements: str = ""


def capture(start_dir: Path | None = None) -> RunContext:
    entry = entry_point()
    base = start_dir or (Path(entry).parent if Path(entry).is_file() else Path.cwd())
    tags = {
        **inherited_tags(),
        "gnomon.source.entry_point": entry,
        "gnomon.python.version": platform.python_version(),
        "gnomon.host": socket.gethostname(),
        "gnomon.user": current_user(),
    }
    git = _git_state(base)
    tags.update(git.tags)
    return RunContext(tags=tags, diff=git.diff, requirements=installed_packages())


def inherited_tags() -> dict[str, str]:
    """The tags ``RUN_TAGS_ENV`` holds; ignored unless a JSON object of strings."""
    try:
        found = json.loads(os.environ.get(RUN_TAGS_ENV) or "{}")
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, str)}


@functools.cache
def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def entry_point() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if "ipykernel" in sys.modules:
        return "<notebook>"
    if not path or not Path(path).is_file():
        return "<interactive>"
    return str(Path(path).resolve())


@functools.cache
def installed_packages() -> str:
    """``name==version`` per installed distribution on ``sys.path``; computed once a process.

    A ``.dist-info`` folder is named ``<name>-<version>`` (the wheel spec), so its name is
    read, not its METADATA: parsing a few hundred metadata files took a fifth of a second,
    which the first ``end_run`` waited for. Other layouts (``.egg-info``) are read in full.
    """
    seen: dict[str, str] = {}
    for entry in sys.path:
        try:
            found = sorted(os.scandir(entry or "."), key=lambda e: e.name)
        except OSError:
            continue
        for item in found:
            if item.name.endswith(".dist-info"):
                name, _, version = item.name[: -len(".dist-info")].partition("-")
                name = name.replace("_", "-")
            elif item.name.endswith(".egg-info"):
                dist = importlib.metadata.PathDistribution(Path(item.path))
                name, version = dist.name or "", dist.version
            else:
                continue
            if name and version and name.lower() not in seen:
                seen[name.lower()] = f"{name}=={version}"
    return "\n".join(sorted(seen.values(), key=str.lower)) + "\n"


@dataclass(frozen=True, slots=True)
class _GitState:
    tags: dict[str, str]
    diff: str | None


# A git state is reused while HEAD, the index and the checked-out ref are unchanged, for a
# few seconds: a sweep starting many runs spawns git once a burst, not once a run (end_run
# waits for the capture). An edit to a tracked file changes none of those, so the reuse is
# kept shorter than the time it takes to edit a file and start the next run.
GIT_STATE_MAX_AGE_S = 3.0
_git_cache: dict[Path, tuple[tuple[float, ...], float, _GitState]] = {}
_git_cache_lock = threading.Lock()


def _git_state(start: Path) -> _GitState:
    root = _repository_root(start)
    if root is None:
        return _GitState({}, None)
    signature = _git_signature(root)
    now = time.monotonic()
    with _git_cache_lock:
        cached = _git_cache.get(root)
        if cached is not None and cached[0] == signature and now - cached[1] < GIT_STATE_MAX_AGE_S:
            return cached[2]
    state = _read_git_state(root)
    with _git_cache_lock:
        _git_cache[root] = (signature, now, state)
    return state


def _git_signature(root: Path) -> tuple[float, ...]:
    """Modification times of what a commit, a checkout or ``git add`` changes."""
    git = root / ".git"
    head = git / "HEAD"
    paths = [head, git / "index"]
    try:
        ref = head.read_text().strip()
    except OSError:
        ref = ""
    if ref.startswith("ref: "):
        paths.append(git / ref[5:])
    times = []
    for path in paths:
        try:
            times.append(path.stat().st_mtime)
        except OSError:
            times.append(-1.0)
    return tuple(times)


def _read_git_state(root: Path) -> _GitState:
    # One `git status` gives commit, branch and dirtiness; each spawn costs milliseconds.
    status = _git(root, "status", "--porcelain=v2", "--branch", "--untracked-files=no")
    if status is None:
        return _GitState({}, None)
    headers = dict(line[2:].split(" ", 1) for line in status.splitlines() if line.startswith("# "))
    dirty = any(not line.startswith("#") for line in status.splitlines())
    tags = {"gnomon.git.root": str(root), "gnomon.git.dirty": "true" if dirty else "false"}
    commit = headers.get("branch.oid", "(initial)")
    if commit != "(initial)":
        tags["gnomon.git.commit"] = commit
    branch = headers.get("branch.head", "(detached)")
    if branch != "(detached)":
        tags["gnomon.git.branch"] = branch
    if remote := _remote(root):
        tags["gnomon.git.remote"] = remote
    diff = (
        _git(root, "diff", "HEAD", strip=False) if dirty and "gnomon.git.commit" in tags else None
    )
    if diff is not None and len(diff) > _MAX_DIFF_BYTES:
        diff = diff[:_MAX_DIFF_BYTES] + "\n# gnomon: diff truncated\n"
    return _GitState(tags, diff)


def _repository_root(start: Path) -> Path | None:
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / ".git").exists():
            return folder
    return None


@functools.lru_cache(maxsize=64)
def _remote(root: Path) -> str | None:
    """The origin URL, once per repository per process (it rarely changes mid-process)."""
    remote = _git(root, "config", "--get", "remote.origin.url")
    return strip_credentials(remote) if remote else None


def strip_credentials(url: str) -> str:
    """Drop ``user:token@`` from an https remote so no secret lands in a tag."""
    return re.sub(r"^(\w+://)[^/@]+@", r"\1", url)


def _git(cwd: Path, *args: str, strip: bool = True) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() if strip else done.stdout
