"""Running a user's code in a child process, as ``gnomon run`` and ``gnomon reproduce`` do:
git without hooks or prompts, the child's environment pointed at this store, the run with
its output kept for the error, and the runs the child started, found by a tag."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING

from gnomon.errors import InvalidInput, NotFound, UserCodeError
from gnomon.tracking.capture import RUN_TAGS_ENV

if TYPE_CHECKING:
    from gnomon.sdk import Client
    from gnomon.tracking.entities import Run

SCHEMES = ("https", "http", "ssh", "git", "file")  # the transports git may use
OUTPUT_TAIL = 4000  # characters of a failed child's output kept in the error
GIT_TIMEOUT_S = 900


def git(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """git without hooks (a hook of the user's is not ours to run), prompts, or transports
    other than ``SCHEMES`` (``ext::`` runs commands); a git that cannot start fails."""
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": ":".join(SCHEMES),
        "GIT_OPTIONAL_LOCKS": "0",
    }
    command = ["git", "-C", str(cwd), "-c", "core.hooksPath=/dev/null", *args]
    try:
        return subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL if stdin is None else None,
            timeout=GIT_TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return subprocess.CompletedProcess(command, 1, "", str(exc))


def said(done: subprocess.CompletedProcess[str]) -> str:
    """The last line git wrote to stderr: its reason."""
    return (done.stderr.strip().splitlines() or ["git failed"])[-1]


def check_timeout(timeout: float | None) -> None:
    """Refuse a timeout that is not a positive number of seconds, before anything runs."""
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise InvalidInput(f"timeout must be a positive number of seconds, not {timeout}")


def child_environment(
    client: Client, experiment: str, tags: Mapping[str, str] | None = None
) -> dict[str, str]:
    """This process's environment, pointed at the same store, workspace and experiment, with
    this Python's scripts first on PATH; every run the child starts takes ``tags`` (and no
    launcher's tags this process may have inherited)."""
    settings = client.settings
    env = {**os.environ, "GNOMON_HOME": str(settings.home), "GNOMON_WORKSPACE": settings.workspace}
    env.update(GNOMON_EXPERIMENT=experiment, GNOMON_CAPTURE_ENVIRONMENT="true")
    for name, value in (("URI", settings.uri), ("ARTIFACTS", settings.artifacts)):
        if value:
            env[f"GNOMON_{name}"] = value
    env.pop(RUN_TAGS_ENV, None)
    if tags:
        env[RUN_TAGS_ENV] = json.dumps(dict(tags))
    bin_folder = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_folder, *filter(None, [env.get("PATH")])])
    return env


def run_child(
    what: str,
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float | None,
    output: IO[str] | None = None,
) -> None:
    """Run ``argv`` (``what`` names it in errors) to its end.

    Args:
        output: where its output goes as it runs (default: kept, and its tail put in the
            error if it fails).

    Raises:
        UserCodeError: it exited with an error or ran past ``timeout``.
        InvalidInput: its program could not be started.
    """
    target = _file_descriptor(output)
    with tempfile.TemporaryFile() as log:
        sink = target if target is not None else log
        try:
            done = subprocess.run(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            _copy(log, output)
            raise UserCodeError(f"{what} ran past {timeout} s") from None
        except OSError as exc:
            raise InvalidInput(f"{what} could not start {argv[0]!r}: {exc.strerror}") from None
        _copy(log, output)
        if done.returncode != 0:
            tail = "" if output is not None else ":\n" + _tail(log)
            raise UserCodeError(f"{what} exited with status {done.returncode}{tail}")


def runs_tagged(client: Client, experiment: str, tag: str, value: str) -> list[Run]:
    """The runs of ``experiment`` (a name or an id) whose ``tag`` is ``value``, oldest first;
    none when the experiment is not there (the child logged nothing)."""
    quoted = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    try:
        found = client.search_runs(
            experiment, f"tags.{tag} = {quoted}", order_by=["start_time ASC"], max_results=1000
        )
    except NotFound:
        return []
    return list(found.items)


def _file_descriptor(output: IO[str] | None) -> int | None:
    """``output``'s file descriptor, when it has one (a test's captured stream has none)."""
    if output is None:
        return None
    try:
        number = output.fileno()
    except (OSError, ValueError, AttributeError):
        return None
    output.flush()
    return number


def _copy(log: IO[bytes], output: IO[str] | None) -> None:
    if output is not None and log.tell():
        log.seek(0)
        output.write(log.read().decode(errors="replace"))
        output.flush()


def _tail(log: IO[bytes]) -> str:
    log.seek(max(0, log.tell() - OUTPUT_TAIL))
    return log.read().decode(errors="replace")


__all__ = [
    "GIT_TIMEOUT_S",
    "OUTPUT_TAIL",
    "SCHEMES",
    "check_timeout",
    "child_environment",
    "git",
    "run_child",
    "runs_tagged",
    "said",
]
