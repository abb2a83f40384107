"""W7 on Dagster: a 200-op chain and a 200-op fan-out joined by one op (a list input), each a
job run with ``execute_in_process`` (Dagster's in-process executor, an ephemeral instance) in a
fresh process; prints one JSON line.

Runs inside the Dagster peer venv (``bench/.peers/dagster``); imports neither gnomon nor
bench. Dagster has no cache across runs: the re-run is not measured.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import w7_common

STARTED = time.perf_counter()


def _jobs() -> dict[str, Any]:
    from dagster import In, job, op

    @op
    def first() -> int:
        return 1

    @op
    def inc(x: int) -> int:
        return x + 1

    @job
    def chain() -> None:
        value = first()
        for _ in range(w7_common.CHAIN_STEPS - 1):
            value = inc(value)  # repeated calls are aliased inc_2, inc_3, ...

    def fan_op(i: int) -> Any:
        @op(name=f"fan_{i}")
        def fan() -> int:
            return i * 2

        return fan

    @op(ins={"values": In(list[int])})
    def total(values: list[int]) -> int:
        return sum(values)

    fans = [fan_op(i) for i in range(w7_common.WIDTH)]

    @job
    def fan_out() -> None:
        total([fan() for fan in fans])

    return {"chain": (chain, f"inc_{w7_common.CHAIN_STEPS - 1}"), "fan": (fan_out, "total")}


def job(kind: str) -> dict[str, Any]:
    import dagster  # noqa: F401 - the import timed on its own

    imported = time.perf_counter()
    definition, last = _jobs()[kind]
    called = time.perf_counter()
    result = definition.execute_in_process()
    done = time.perf_counter()
    return {
        "result": result.output_for_node(last),
        "import_s": imported - STARTED,
        "run_s": done - called,
        "define_s": called - imported,
        "success": result.success,
    }


PEER = w7_common.Peer(
    name="dagster",
    script=str(Path(__file__).resolve()),
    env=lambda home: {"DAGSTER_HOME": str(home)},
    cached=False,
)

if __name__ == "__main__":
    sys.exit(w7_common.main(PEER, job))
