"""The cyclic garbage collector paused while gnomon builds what lives as long as the process.

Importing SQLAlchemy and pydantic and opening a store make a few hundred thousand objects that
never become garbage, and every collection their allocation sets off walks them again. Paused,
a new store's client opens in 0.29 s instead of 0.33 s here. Collection resumes afterwards as
it was: nothing is frozen, so a caller's own cycles are collected as before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # pauses under way, in any thread: the last one out resumes collection
_resume = False  # whether collection was on when the first pause began


@contextmanager
def collection_paused() -> Iterator[None]:
    """No automatic collection inside (nested and concurrent pauses allowed); afterwards the
    collector is on again if it was on before the outermost pause."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
