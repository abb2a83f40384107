"""W7 on ZenML OSS: a pipeline of 200 chained trivial steps and one of 200 steps joined by one
step taking the list of their outputs, each run in a fresh process on the default local stack
(local orchestrator, SQLite store and artifact store under ``ZENML_CONFIG_PATH``, made on the
first run); the re-run is served by ZenML's step cache (on by default). Prints one JSON line.

Runs inside the ZenML peer venv (``bench/.peers/zenml``); imports neither gnomon nor bench.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import w7_common

STARTED = time.perf_counter()


def job(kind: str) -> dict[str, Any]:
    import zenml_w7_steps as steps_module  # imports ZenML

    imported = time.perf_counter()
    definition, last = {
        "chain": (steps_module.chain, f"inc_{w7_common.CHAIN_STEPS}"),
        "fan": (steps_module.fan_out, "total"),
    }[kind]
    called = time.perf_counter()
    run = definition()
    done = time.perf_counter()
    steps = run.steps
    statuses = [str(step.status) for step in steps.values()]
    return {
        "result": steps[last].output.load(),
        "cached_steps": sum(status.endswith("cached") for status in statuses),
        "step_runs": len(statuses),
        "status": str(run.status),
        "import_s": imported - STARTED,
        "run_s": done - called,
    }


PEER = w7_common.Peer(
    name="zenml",
    script=str(Path(__file__).resolve()),
    env=lambda home: {
        "ZENML_CONFIG_PATH": str(home / "zenml"),
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENML_ENABLE_REPO_INIT_WARNINGS": "false",
        "AUTO_OPEN_DASHBOARD": "false",
    },
)

if __name__ == "__main__":
    sys.exit(w7_common.main(PEER, job))
