"""Command delivery: run the operator's program with the event's JSON on stdin, no shell."""

from __future__ import annotations

import os
import signal
import subprocess
from contextlib import suppress

from gnomon.checks import shown
from gnomon.monitoring.channel_specs import AttemptFailed, CommandChannel

STDERR_SHOWN = 300  # characters of the command's stderr kept in the delivery's error


def run_command(channel: CommandChannel, body: bytes) -> None:
    """Run ``channel.argv`` with ``body`` on stdin; return when it exits 0.

    Raises:
        AttemptFailed: (never retried) the program is missing, exits non-zero, or runs past
            ``timeout_s``, when it and every process it started are killed.
    """
    try:
        # A session of its own: on a timeout the whole group goes, not only the first process
        # (a shell script's children would keep stderr open and the wait going).
        process = subprocess.Popen(
            channel.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise AttemptFailed(
            f"cannot run {shown(channel.argv[0])}: {exc.strerror}", retry=False
        ) from None
    try:
        _, stderr = process.communicate(body, timeout=channel.timeout_s)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):  # every process of the group already gone
            os.killpg(process.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):  # one that left the group keeps stderr open
            process.communicate(timeout=5)
        process.wait()  # the first process was killed with its group: this returns at once
        raise AttemptFailed(
            f"command {shown(channel.argv[0])} ran past {channel.timeout_s:g} s and was killed",
            retry=False,
        ) from None
    if process.returncode != 0:
        tail = stderr.decode("utf-8", "replace").strip()[-STDERR_SHOWN:]
        raise AttemptFailed(
            f"command {shown(channel.argv[0])} exited with status {process.returncode}"
            + (f": {tail}" if tail else ""),
            retry=False,
        )
