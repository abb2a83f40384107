"""The cyclic garbage collector paused while gnomon builds what lives as long as the process.

Importing SQLAlchemy and pydantic and opening a store make a few hundred thousand objects that
never become garbage, and the collections their allocation sets off walk them again for
nothing (151 while a new store's first client opens). Paused, that client opens about 13%
sooner. Collection resumes afterwards as it was: nothing is frozen, so a caller's own cycles
are collected as before.
"""

from __future__ import annotations

import gc
import os
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
    counted = False
    try:
        with _lock:
            _depth += 1
            counted = True
            if _depth == 1:
                _resume = gc.isenabled()
                gc.disable()
        yield
    finally:
        if counted:
            with _lock:
                _depth = max(0, _depth - 1)  # a forked child starts again from none
                if _depth == 0 and _resume:
                    gc.enable()


def _after_fork_in_child() -> None:
    # The threads that held pauses are not in the child: none of them will end its pause
    # there, and the lock may have been held at the fork.
    global _lock, _depth
    _lock = threading.Lock()
    if _depth:
        _depth = 0
        if _resume:
            gc.enable()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
