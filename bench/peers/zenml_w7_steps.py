"""W7's ZenML steps and pipelines, at module level: ZenML finds a step again by its module
and name. Imported by ``zenml_w7.py``'s job only (the floor's process does not import ZenML)."""

from __future__ import annotations

from w7_common import CHAIN_STEPS, WIDTH
from zenml import pipeline, step


@step
def inc(x: int) -> int:
    return x + 1


@step
def fan(i: int) -> int:
    return i * 2


@step
def total(values: list[int]) -> int:
    return sum(values)


@pipeline(enable_cache=True)
def chain() -> None:
    value = inc(0)
    for _ in range(CHAIN_STEPS - 1):
        value = inc(value)  # repeated calls get ids inc_2, inc_3, ...


@pipeline(enable_cache=True)
def fan_out() -> None:
    total([fan(i) for i in range(WIDTH)])
