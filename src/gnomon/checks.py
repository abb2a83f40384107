"""Input checks every capability's service shares; each raises InvalidInput naming the value."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

from gnomon.errors import InvalidInput

E = TypeVar("E", bound=Enum)


def text(what: str, value: object, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value):
        raise InvalidInput(f"{what} must be a {'' if empty else 'non-empty '}string, got {value!r}")
    return value


def max_results(value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"max_results must be a positive integer, got {value!r}")


def member(kind: type[E], value: E | str, what: str) -> E:
    """``value`` as a member of ``kind`` (strings matched case-insensitively by value)."""
    try:
        return kind(value.upper() if isinstance(value, str) else value)
    except ValueError:
        known = ", ".join(kind.__members__)
        raise InvalidInput(f"unknown {what} {value!r} (known: {known})") from None
