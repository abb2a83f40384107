"""Patching a library when it is imported, so ``gnomon.autolog()`` imports none of them.

Importing Lightning takes seconds, PyTorch, XGBoost and LightGBM one or two each: an
``autolog()`` that imported every installed library would make a scikit-learn user wait for
all of them. A library already imported is patched at once; any other is patched right after
its top-level module finishes executing, the first time the program imports it. Reverting the
library before that drops the wait (``patching.on_revert``).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from gnomon.autologging.patching import on_revert, safely

Callback = Callable[[], None]

_lock = threading.Lock()
_waiting: dict[str, list[Callback]] = {}  # top-level module name → callbacks


def when_imported(library: str, module: str, callback: Callback) -> None:
    """Call ``callback`` now if ``module`` (a top-level name) is imported, else right after
    the program imports it; the wait ends when ``library`` is reverted."""
    if module in sys.modules:
        callback()
        return
    with _lock:
        _waiting.setdefault(module, []).append(callback)
        if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
            sys.meta_path.insert(0, _Finder())
    on_revert(library, lambda: _forget(module, callback))


def _forget(module: str, callback: Callback) -> None:
    with _lock:
        callbacks = _waiting.get(module, [])
        if callback in callbacks:
            callbacks.remove(callback)
        if not callbacks:
            _waiting.pop(module, None)


def _run(module: str) -> None:
    with _lock:
        callbacks = _waiting.pop(module, [])
    for callback in callbacks:
        safely(f"patch {module}", callback)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: for a watched module it asks the other finders, then has the
    loader run the callbacks once the module has executed."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _waiting:
            return None
        spec = _real_spec(self, fullname, path, target)
        loader = spec.loader if spec is not None else None
        # Wrap only a loader object of this module's own (not a class used as a loader).
        own = not isinstance(loader, type) and hasattr(loader, "__dict__")
        if own and hasattr(loader, "exec_module"):
            _run_after_exec(loader, fullname)
        return spec


def _real_spec(
    me: _Finder, fullname: str, path: Sequence[str] | None, target: ModuleType | None
) -> importlib.machinery.ModuleSpec | None:
    for finder in list(sys.meta_path):
        if finder is me or not hasattr(finder, "find_spec"):
            continue
        spec: importlib.machinery.ModuleSpec | None = finder.find_spec(fullname, path, target)
        if spec is not None:
            return spec
    return None


def _run_after_exec(loader: Any, fullname: str) -> None:
    had_own = "exec_module" in vars(loader)
    original = loader.exec_module

    def exec_module(module: ModuleType) -> None:
        # Put the loader back first: it is the module's ``__loader__`` from now on.
        if had_own:
            loader.exec_module = original
        else:
            del loader.exec_module
        original(module)
        _run(fullname)

    loader.exec_module = exec_module
