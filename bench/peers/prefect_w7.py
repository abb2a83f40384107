"""W7 on Prefect 3: a flow calling a task 200 times as a chain, and a flow mapping a task over
200 inputs (its default thread-pool task runner) joined by one task taking every future; each
flow run in a fresh process against Prefect's ephemeral local API (no ``PREFECT_API_URL``: it
starts a temporary server of its own, state in ``PREFECT_HOME``); prints one JSON line.

Runs inside the Prefect peer venv (``bench/.peers/prefect``); imports neither gnomon nor
bench. Tasks cache on their inputs and source (``INPUTS + TASK_SOURCE``, results persisted
under ``PREFECT_HOME``), so the re-run in a new process is served from the cache.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import w7_common

STARTED = time.perf_counter()


def _flows() -> dict[str, Any]:
    from prefect import flow, task
    from prefect.cache_policies import INPUTS, TASK_SOURCE

    cached = {"cache_policy": INPUTS + TASK_SOURCE, "persist_result": True}

    @task(**cached)
    def inc(x: int) -> int:
        return x + 1

    @task(**cached)
    def fan(i: int) -> int:
        return i * 2

    @task(**cached)
    def total(values: list[int]) -> int:
        return sum(values)

    @flow
    def chain() -> tuple[int, int]:
        value, hits = 0, 0
        for _ in range(w7_common.CHAIN_STEPS):
            state = inc(value, return_state=True)
            hits += state.name == "Cached"
            value = state.result()
        return value, hits

    @flow
    def fan_out() -> tuple[int, int]:
        futures = fan.map(range(w7_common.WIDTH))
        joined = total.submit(futures)
        states = [future.state for future in [*futures, joined]]
        return joined.result(), sum(state.name == "Cached" for state in states)

    return {"chain": chain, "fan": fan_out}


def job(kind: str) -> dict[str, Any]:
    import prefect  # noqa: F401 - the import timed on its own

    imported = time.perf_counter()
    flow = _flows()[kind]
    called = time.perf_counter()
    result, hits = flow()
    done = time.perf_counter()
    return {
        "result": result,
        "cached_steps": hits,
        "import_s": imported - STARTED,
        "run_s": done - called,
    }


PEER = w7_common.Peer(
    name="prefect",
    script=str(Path(__file__).resolve()),
    env=lambda home: {
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # starting the server takes 15-25 s on a busy 2-core machine: past the default 20
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "DO_NOT_TRACK": "1",
    },
)

if __name__ == "__main__":
    sys.exit(w7_common.main(PEER, job))
