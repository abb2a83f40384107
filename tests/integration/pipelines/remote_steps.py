"""Steps and a pipeline the remote-mode tests run in real worker processes (importable by them)."""

from __future__ import annotations

import numpy as np

import gnomon


@gnomon.step
def numbers(n: int) -> list[int]:
    return list(range(n))


@gnomon.step
def scaled(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.float64) * 2.5


@gnomon.step
def total(array: np.ndarray) -> float:
    return float(array.sum())


@gnomon.step
def padding(n: int) -> str:
    return "x" * (1_100_000 + n)  # past HttpObjects.ASK_FIRST_BYTES: asked before it is sent


@gnomon.step
def length(text: str) -> int:
    return len(text)


@gnomon.pipeline
def remote(n: int = 5):
    total(scaled(numbers(n)))
    length(padding(n))
