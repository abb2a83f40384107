"""Steps and pipelines the Ray executor tests run in Ray worker processes (importable by them)."""

from __future__ import annotations

import os
import time

import gnomon


@gnomon.step
def source(n: int) -> int:
    return n


@gnomon.step
def double(x: int) -> int:
    return x * 2


@gnomon.step
def inc(x: int) -> int:
    return x + 1


@gnomon.step
def add(a: int, b: int) -> list[int]:
    return [a + b, os.getpid()]


@gnomon.step
def boom(x: int) -> int:
    raise ValueError(f"boom at {x}")


@gnomon.step(timeout=1)
def sleepy(x: int) -> int:
    time.sleep(120)
    return x


@gnomon.step
def crash(x: int) -> int:
    os._exit(3)


@gnomon.pipeline
def diamond(n: int = 3):
    a = source(n)
    return add(double(a), inc(a))


@gnomon.pipeline
def half_broken(n: int = 3):
    a = source(n)
    inc(double(a))  # the healthy branch
    inc(boom(a))  # stops at boom: its child is skipped


@gnomon.pipeline
def too_slow(n: int = 3):
    inc(sleepy(n))
    double(n)


@gnomon.pipeline
def crashing(n: int = 3):
    inc(crash(n))
    double(n)
