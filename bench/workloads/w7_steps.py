"""W7's pipelines on gnomon: a 200-step chain of trivial steps, and fan-outs of 200 and 1,000
trivial branches joined by one step that takes every branch's output.

A step's inputs are its named parameters (``*args`` is refused), so each join is generated with
one parameter per branch (``a0``..``a199``). The workers import this module to find the steps,
as they would a user's.
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


def _join(width: int) -> Any:
    """``total_<width>(a0: int, ..., a<width-1>: int) -> int``, their sum, as a step."""
    names = [f"a{i}" for i in range(width)]
    source = (
        f"def total_{width}({', '.join(f'{n}: int' for n in names)}) -> int:\n"
        f"    return sum(({', '.join(names)},))\n"
    )
    scope: dict[str, Any] = {"__name__": __name__}
    exec(source, scope)  # generated from the width alone
    return gnomon.step(name="total")(scope[f"total_{width}"])


def _fan_out(width: int, join: Any) -> Any:
    def fan_out() -> Any:
        return join(*[fan(i) for i in range(width)])

    fan_out.__name__ = fan_out.__qualname__ = f"fan_{width}"
    return gnomon.pipeline(fan_out)


def __getattr__(name: str) -> Any:
    """``total_<width>`` (a join) and ``fan_<width>`` (its pipeline), made on first use: a
    1,000-parameter join takes 0.2 s to make, which the chain's process should not pay.
    Workers find a join through here too (``module:total_200``)."""
    kind, _, width = name.partition("_")
    if kind not in ("total", "fan") or not width.isdigit():
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if kind == "total":
        made = _join(int(width))
    else:
        made = _fan_out(int(width), __getattr__(f"total_{width}"))
    globals()[name] = made
    return made


def pipeline(kind: str) -> tuple[Any, str, int, int]:
    """The pipeline of ``kind``, the node whose output is its result, its steps, that result."""
    if kind == "chain":
        return chain, f"inc-{CHAIN_STEPS}", CHAIN_STEPS, CHAIN_STEPS
    width = {"fan": WIDTH, "wide": WIDE}[kind]
    return __getattr__(f"fan_{width}"), "total", width + 1, sum(2 * i for i in range(width))
