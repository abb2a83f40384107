"""Reversible patches of third-party training calls, and the guard that keeps gnomon's own
failures out of a user's fit.

A patch replaces ``owner.name`` with a wrapper and remembers the original, per library, so
``autolog(disable=True)`` puts every original back. Wrappers call ``safely`` around gnomon's
work: an exception there is logged as a warning and the user's training carries on; an
exception from the training itself always propagates unchanged.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

logger = logging.getLogger("gnomon.autolog")

T = TypeVar("T")

_lock = threading.Lock()
_patches: dict[str, list[Patch]] = {}
_undos: dict[str, list[Callable[[], None]]] = {}  # what is no attribute: hooks
# Set while an autologged call runs, so the fits it makes itself (a pipeline's steps, a
# search's candidates) do not log runs of their own.
_inside: ContextVar[str | None] = ContextVar("gnomon_autolog_inside", default=None)


@dataclass(frozen=True, slots=True)
class Patch:
    owner: Any
    name: str
    original: Any
    had_own: bool  # the attribute was defined on ``owner`` itself, not inherited


def patch(library: str, owner: Any, name: str, wrap: Callable[[Any], Any]) -> None:
    """Replace ``owner.name`` with ``wrap(original)``; once per library and attribute."""
    with _lock:
        patches = _patches.setdefault(library, [])
        if any(p.owner is owner and p.name == name for p in patches):
            return
        # A class attribute is read statically, so a staticmethod or classmethod is put back
        # as it was and a method the class only inherits is deleted again, not copied down.
        is_class = isinstance(owner, type)
        raw = inspect.getattr_static(owner, name) if is_class else getattr(owner, name)
        had_own = name in vars(owner) if is_class else True
        original = getattr(owner, name)
        wrapper = wrap(original)
        if isinstance(raw, staticmethod):
            wrapper = staticmethod(wrapper)
        elif isinstance(raw, classmethod):
            wrapper = classmethod(wrapper)
        else:
            functools.update_wrapper(wrapper, original)
        wrapper.__gnomon_autolog__ = True
        setattr(owner, name, wrapper)
        patches.append(Patch(owner, name, raw, had_own))


def on_revert(library: str, undo: Callable[[], None]) -> None:
    """Call ``undo`` when ``library`` is reverted: for what ``patch`` cannot put back, such
    as a hook registered with the library or a wait for its import."""
    with _lock:
        _undos.setdefault(library, []).append(undo)


def revert(library: str) -> None:
    """Put back every original that ``patch`` replaced for ``library``, and run its undos."""
    with _lock:
        for p in reversed(_patches.pop(library, [])):
            if p.had_own:
                setattr(p.owner, p.name, p.original)
            else:
                delattr(p.owner, p.name)
        undos = _undos.pop(library, [])
    for undo in reversed(undos):
        safely("undo a hook", undo)


def patched(library: str) -> bool:
    return bool(_patches.get(library) or _undos.get(library))


def patched_libraries() -> list[str]:
    return [library for library in {**_patches, **_undos} if patched(library)]


def safely(what: str, call: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """``call(*args, **kwargs)``, or None with a warning when gnomon's own work fails."""
    try:
        return call(*args, **kwargs)
    except Exception as exc:  # autologging must never break the user's fit
        logger.warning("gnomon autolog could not %s: %s: %s", what, type(exc).__name__, exc)
        return None


def inside() -> str | None:
    """The library whose autologged call is running in this context, if any."""
    return _inside.get()


@contextmanager
def running(library: str) -> Iterator[None]:
    token = _inside.set(library)
    try:
        yield
    finally:
        _inside.reset(token)
