"""W7's pipelines on gnomon: a 200-step chain of trivial steps, and fan-outs of 200 and 1,000
trivial branches joined by one step that takes the list of every branch's output. The workers
import this module to find the steps, as they would a user's.
"""

from __future__ import annotations

from typing import Any

import gnomon

CHAIN_STEPS = 200
WIDTH, WIDE = 200, 1000


@gnomon.step
def inc(x: int) -> int:
    return x + 1


@gnomon.step
def fan(i: int) -> int:
    return i * 2


@gnomon.pipeline
def chain(start: int = 0) -> Any:
    value = start
    for _ in range(CHAIN_STEPS):
        value = inc(value)
    return value


@gnomon.step
def total(values: list[int]) -> int:
    return sum(values)


@gnomon.pipeline
def fan_200() -> Any:
    return total([fan(i) for i in range(WIDTH)])


@gnomon.pipeline
def fan_1000() -> Any:
    return total([fan(i) for i in range(WIDE)])


def pipeline(kind: str) -> tuple[Any, str, int, int]:
    """The pipeline of ``kind``, the node whose output is its result, its steps, that result."""
    if kind == "chain":
        return chain, f"inc-{CHAIN_STEPS}", CHAIN_STEPS, CHAIN_STEPS
    width = {"fan": WIDTH, "wide": WIDE}[kind]
    flow = fan_200 if kind == "fan" else fan_1000
    return flow, "total", width + 1, sum(2 * i for i in range(width))
