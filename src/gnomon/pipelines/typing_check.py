"""Whether a step's output type may feed another step's input, from their annotations.

Deliberately forgiving where Python's typing is: an unannotated port (``Any``) connects to
anything, generics compare by their origin (``list[int]`` feeds ``list``), ``Optional`` and
unions accept any of their members, and numbers follow PEP 484 (an ``int`` feeds a ``float``).
What it catches is the plain mistake: a DataFrame wired into an ``int``.
"""

from __future__ import annotations

import types
import typing
from typing import Any

_NUMERIC_TOWER = {float: (int, float), complex: (int, float, complex)}


def type_name(kind: Any) -> str:
    if kind is Any:
        return "Any"
    if isinstance(kind, type) and not typing.get_args(kind):
        module = kind.__module__
        return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
    return repr(kind).replace("typing.", "")


def _members(kind: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(kind)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(kind)
    return (kind,)


def _base(kind: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin is typing.Annotated:
        return _base(typing.get_args(kind)[0])
    return origin if origin is not None else kind


def compatible(produced: Any, wanted: Any) -> bool:
    """True when a value of type ``produced`` can be passed where ``wanted`` is declared."""
    if produced is Any or wanted is Any:
        return True
    return all(
        any(_one(_base(out), _base(into)) for into in _members(wanted))
        for out in _members(produced)
    )


def _one(produced: Any, wanted: Any) -> bool:
    if produced is Any or wanted is Any or wanted is object:
        return True
    if produced is type(None) and wanted is type(None):
        return True
    if wanted in _NUMERIC_TOWER and produced in _NUMERIC_TOWER[wanted]:
        return True
    if not isinstance(produced, type) or not isinstance(wanted, type):
        return True  # a TypeVar, a Protocol-like alias: nothing sound to check
    try:
        return issubclass(produced, wanted)
    except TypeError:
        return True


__all__ = ["compatible", "type_name"]
