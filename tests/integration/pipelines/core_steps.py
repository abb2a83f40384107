"""Steps and pipelines the executor tests run in real worker processes (importable by them)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pandas as pd

import gnomon


@gnomon.step
def emit(value: int) -> int:
    return value


@gnomon.step
def add(a: int, b: int) -> int:
    return a + b


@gnomon.step(cache=False)
def stamp(value: int) -> float:
    return time.time() + value * 0


@gnomon.step
def rendezvous(name: str, other: str, folder: str) -> str:
    """Finishes only if ``other`` starts while this one runs: proof of two processes at once."""
    Path(folder, name).write_text(str(os.getpid()))
    deadline = time.monotonic() + 20
    while not Path(folder, other).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{other} never started while {name} ran")
        time.sleep(0.01)
    return f"{name}:{os.getpid()}"


@gnomon.step
def join(a: str, b: str) -> list[str]:
    return sorted([a, b])


@gnomon.step(retries=2, backoff=0.05)
def flaky(folder: str, failures: int) -> int:
    counter = Path(folder, "attempts")
    attempt = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempt))
    if attempt <= failures:
        raise RuntimeError(f"attempt {attempt} fails")
    return attempt


@gnomon.step
def fails_if(marker: str, value: int) -> int:
    if Path(marker).exists():
        raise ValueError(f"marker {Path(marker).name} is present")
    return value * 10


@gnomon.step(timeout=1)
def sleeper(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@gnomon.step
def crash(code: int) -> int:
    os._exit(code)


@gnomon.step
def chatty(word: str) -> str:
    print(f"printed {word}")
    logging.getLogger("steps").warning("logged %s", word)
    return word


@gnomon.step
def frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": range(n), "y": [i * 2.5 for i in range(n)]})


@gnomon.step
def column_sum(table: pd.DataFrame) -> float:
    return float(table["y"].sum())


@gnomon.step
def write_file(text: str, folder: str) -> Path:
    path = Path(folder, "out.txt")
    path.write_text(text)
    return path


@gnomon.step
def read_file(path: Path) -> str:
    return path.read_text()


@gnomon.pipeline
def parallel_pair(folder: str):
    return join(rendezvous("a", "b", folder), rendezvous("b", "a", folder))


@gnomon.pipeline
def resumable(marker: str, start: int = 1):
    first = emit(start)
    failing = fails_if(marker, first)
    add(failing, first)
    return add(emit(5), first)  # another branch: runs to the end whatever fails


@gnomon.pipeline
def retrying(folder: str, failures: int = 2):
    return flaky(folder, failures)


@gnomon.pipeline
def troubled(seconds: float = 30):
    sleeper(seconds)
    crash(3)
    return add(emit(1), emit(2))


@gnomon.pipeline
def tables(n: int = 100, folder: str = "."):
    return column_sum(frame(n)), read_file(write_file(chatty("hello"), folder)), stamp(n)


@gnomon.step
def square(i: int) -> int:
    return i * i


@gnomon.step
def total(values: list[int]) -> int:
    return sum(values)


@gnomon.pipeline
def fan_in():
    """A fan-out of eight branches joined by one step that takes their list."""
    return total([square(i) for i in range(8)])
