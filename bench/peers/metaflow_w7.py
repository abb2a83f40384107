"""W7 on Metaflow: a flow of 200 trivial steps (``start``, 198, ``end``) and a ``foreach`` over
200 items joined by one step, each ``python flow.py run`` in a fresh process with the local
runtime (a process per task), metadata and datastore under the home; the re-run is
``python flow.py resume`` of that run (Metaflow has no cache: resume clones what succeeded).
Prints one JSON line.

Runs inside the Metaflow peer venv (``bench/.peers/metaflow``); imports neither gnomon nor
bench. The flow files are generated into the home; the result, the run's own start and end
(``run_s``) and the cloned tasks are read back with Metaflow's client afterwards, untimed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import w7_common

SCRIPT = str(Path(__file__).resolve())
FLOWS = {"chain": "ChainFlow", "fan": "FanFlow"}


def _chain_source() -> str:
    middle = [f"s{i}" for i in range(1, w7_common.CHAIN_STEPS - 1)]
    names = ["start", *middle, "end"]
    lines = ["from metaflow import FlowSpec, step", "", "", "class ChainFlow(FlowSpec):"]
    for name, after in zip(names, [*names[1:], None], strict=True):
        lines += ["    @step", f"    def {name}(self):"]
        lines.append("        self.x = 1" if name == "start" else "        self.x += 1")
        lines.append(f"        self.next(self.{after})" if after else "        pass")
        lines.append("")
    return "\n".join([*lines, "", 'if __name__ == "__main__":', "    ChainFlow()", ""])


FAN_SOURCE = f"""from metaflow import FlowSpec, step


class FanFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range({w7_common.WIDTH}))
        self.next(self.fan, foreach="items")

    @step
    def fan(self):
        self.value = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.x = sum(i.value for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FanFlow()
"""


def _command(kind: str, home: Path, again: bool) -> list[str]:
    flow = home / f"{kind}_flow.py"
    if not flow.exists():
        flow.write_text(_chain_source() if kind == "chain" else FAN_SOURCE)
    splits = ["--max-num-splits", str(w7_common.WIDTH)]
    return [sys.executable, str(flow), "--no-pylint", "resume" if again else "run", *splits]


def _read(kind: str, home: Path, stdout: str) -> dict[str, Any]:
    """The latest run's figures, read in a process of its own (Metaflow reads its config
    from the environment once, at import)."""
    env = {**PEER.env(home)}
    import os

    done = subprocess.run(
        [sys.executable, SCRIPT, "--job", f"read-{kind}"],
        env={**os.environ, **env},
        cwd=home,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def job(kind: str) -> dict[str, Any]:
    """Only ``read-<kind>``: the work itself is Metaflow's own CLI process."""
    from metaflow import Flow, namespace

    namespace(None)
    run = Flow(FLOWS[kind.removeprefix("read-")]).latest_run
    tasks = [task for step in run for task in step]
    cloned = sum(1 for task in tasks if "origin-task-id" in task.metadata_dict)
    return {
        "result": run.data.x,
        "run_s": (run.finished_at - run.created_at).total_seconds(),
        "tasks": len(tasks),
        "cached_steps": cloned,
    }


PEER = w7_common.Peer(
    name="metaflow",
    script=SCRIPT,
    env=lambda home: {
        "METAFLOW_HOME": str(home / "config"),
        "METAFLOW_DEFAULT_DATASTORE": "local",
        "METAFLOW_DEFAULT_METADATA": "local",
        "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(home),
        "METAFLOW_USER": "bench",
        "USER": "bench",
    },
    command=_command,
    read=_read,
)

if __name__ == "__main__":
    sys.exit(w7_common.main(PEER, job))
