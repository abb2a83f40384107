"""Field checks shared by alert rules, silences and channel specs.

Each raises InvalidInput naming the object, the field and the value (shortened by
``checks.shown``, so an 8 MB string is not echoed back), with ``details={"field": ...}``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import MISSING, fields
from numbers import Integral, Real
from typing import Any

from gnomon.checks import shown
from gnomon.errors import InvalidInput

NAME_LENGTH = 100
# The monitor name rule (entities.NAME): a letter or digit first, so never "." or "..".
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


def invalid(owner: str, field: str, problem: str, value: object) -> InvalidInput:
    return InvalidInput(f"{owner} {field} {problem}, got {shown(value)}", {"field": field})


def name(owner: str, field: str, value: object) -> str:
    """A name that travels in URL paths: 1 to 100 of ``A-Za-z0-9_.-``, a letter or digit first."""
    if not isinstance(value, str) or len(value) > NAME_LENGTH or not _NAME.fullmatch(value):
        raise invalid(
            owner,
            field,
            f"must be 1 to {NAME_LENGTH} letters, digits, '-', '_' or '.', a letter or digit first",
            value,
        )
    return value


def printable(owner: str, field: str, value: object, limit: int, *, empty: bool = False) -> str:
    """Text of at most ``limit`` printable characters. ``str.isprintable`` refuses newlines
    (which would forge log lines and mail headers), NUL and lone surrogates."""
    low = 0 if empty else 1
    if not isinstance(value, str) or not low <= len(value) <= limit or not value.isprintable():
        raise invalid(owner, field, f"must be {low} to {limit} printable characters", value)
    return value


def optional_printable(owner: str, field: str, value: object, limit: int) -> str | None:
    return None if value is None else printable(owner, field, value, limit)


def number(owner: str, field: str, value: object, low: float, high: float) -> float:
    """A finite number in ``[low, high]`` (booleans refused: ``True`` is not a threshold)."""
    result = math.nan
    if isinstance(value, Real) and not isinstance(value, bool):
        with suppress(OverflowError):  # an integer past float's range
            result = float(value)
    if not math.isfinite(result) or not low <= result <= high:
        bounds = f" from {low:g} to {high:g}" if math.isfinite(low) or math.isfinite(high) else ""
        raise invalid(owner, field, f"must be a finite number{bounds}", value)
    return result


def positive(owner: str, field: str, value: object, high: float) -> float:
    """A number above 0, at most ``high`` (a timeout)."""
    seconds = number(owner, field, value, 0, high)
    if seconds == 0:
        raise invalid(owner, field, f"must be above 0 and at most {high:g}", value)
    return seconds


def integer(owner: str, field: str, value: object, low: int, high: int) -> int:
    whole = int(value) if isinstance(value, Integral) and not isinstance(value, bool) else None
    if whole is None or not low <= whole <= high:
        raise invalid(owner, field, f"must be an integer from {low} to {high}", value)
    return whole


def choice(owner: str, field: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise invalid(owner, field, f"must be one of {', '.join(choices)}", value)
    return value


def items(owner: str, field: str, value: object, low: int, high: int) -> tuple[Any, ...]:
    """A list or tuple (never a string, whose characters would pass as items) of ``low`` to
    ``high`` items, as a tuple, without duplicates."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise invalid(owner, field, "must be a list", value)
    if not low <= len(value) <= high:
        raise invalid(owner, field, f"must hold {low} to {high} items", value)
    if len(set(map(repr, value))) != len(value):  # repr: items may be unhashable
        raise invalid(owner, field, "must not repeat an item", value)
    return tuple(value)


def build(owner: str, cls: type[Any], data: object) -> Any:
    """``cls(**data)`` for a dataclass whose ``__post_init__`` checks its fields, once the
    keys are known: an unknown key is refused (a typo fails loudly), a missing one named."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{owner} must be an object, got {shown(data)}")
    known = {f.name: f for f in fields(cls)}
    for key in data:
        if key not in known:
            raise InvalidInput(
                f"{owner} has no field {shown(key)} (known: {', '.join(known)})",
                {"field": str(key)[:100]},
            )
    for key, spec in known.items():
        if key not in data and spec.default is MISSING and spec.default_factory is MISSING:
            raise InvalidInput(f"{owner} {key} is required", {"field": key})
    return cls(**data)
