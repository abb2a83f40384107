"""Steps and a pipeline the pipeline pages' tests run in real worker processes (importable
by them): a second run with the marker file present has two cache hits, a failure and a step
skipped below it."""

from __future__ import annotations

from pathlib import Path

import gnomon


@gnomon.step
def load(n: int) -> list[int]:
    print(f"loading {n} rows")
    return list(range(n))


@gnomon.step
def total(values: list[int]) -> int:
    return sum(values)


@gnomon.step(cache=False)
def check(values: list[int], marker: str) -> int:
    print("checking <b>values</b>")  # markup in a log stays text
    if Path(marker).exists():
        raise ValueError("the marker file is present")
    return len(values)


@gnomon.step
def report(count: int, amount: int) -> str:
    return f"{count} rows, {amount} in all"


@gnomon.pipeline
def nightly(n: int, marker: str) -> None:
    values = load(n)
    report(check(values, marker), total(values))
