"""Input checks every capability's service shares; each raises InvalidInput naming the value.

The wire types in ``gnomon.wire`` use the same rules, so a value refused by the server's
schema is refused in embedded mode too.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import TypeVar

from gnomon.errors import InvalidInput

E = TypeVar("E", bound=Enum)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what an integer column holds
MAX_MILLIS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: the last time a datetime shows
# The most one page of a listing may hold. Runs and experiments: an analysis reads a whole
# sweep in one page. Identity objects, audit events and registry entries are browsed by people
# and the CLI, and an audit event carries its JSON details, so a page of them stops sooner.
MAX_RESULTS_LIMIT = 50_000
BROWSE_RESULTS_LIMIT = 1_000

# Metric, param and tag keys, of runs and of registry entries alike: the characters the search
# language names without quoting (tracking/search.py builds its bare-key token from KEY_CHARS),
# spaces inside.
KEY_CHARS = r"A-Za-z0-9_\-./:"
KEY_LENGTH = 250
_KEY = re.compile(rf"[{KEY_CHARS} ]+")
DOT_SEGMENTS = frozenset({".", ".."})
_valid_keys: set[str] = set()  # keys already checked: a training loop logs the same few


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text anywhere we store it, or ``None``."""
    if "\x00" in value:
        return "holds a NUL character (\\x00), which PostgreSQL text cannot store"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = value[exc.start]
            return f"holds a lone surrogate ({bad!r}), which is not valid UTF-8"
    return None


def shown(value: object, limit: int = 80) -> str:
    """``value`` for an error message: ASCII (a lone surrogate cannot be encoded) and short
    (an attacker's 8 MB string is not echoed back)."""
    text = ascii(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def not_dots(what: str, value: str) -> str:
    """``value`` unless it is ``.`` or ``..``: clients drop those segments from URL paths
    (RFC 3986), so nothing named so could be reached remotely."""
    if value in DOT_SEGMENTS:
        raise InvalidInput(
            f"{what} {value!r} cannot be used: URL paths drop '.' and '..'", {"field": what}
        )
    return value


def text(what: str, value: object, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value):
        raise InvalidInput(f"{what} must be a {'' if empty else 'non-empty '}string, got {value!r}")
    return storable(what, value)


def storable(what: str, value: str) -> str:
    """``value`` if every database can store it; else InvalidInput naming ``what``."""
    problem = text_problem(value)
    if problem:
        raise InvalidInput(f"{what} {value[:40]!r} {problem}", {"field": what})
    return value


def decimal(value: str) -> bool:
    """A number ``int()`` reads at once: ASCII digits only (``str.isdigit`` also takes ``"²"``,
    which ``int()`` refuses) and at most 19 of them (``int()`` refuses 4,300, and a column holds
    none past 19)."""
    return value.isascii() and value.isdigit() and len(value) <= 19


def millis(what: str, value: object) -> int:
    """Milliseconds since the epoch, from 1970 to the end of 9999."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} must be an integer, got {value!r}", {"field": what})
    if not 0 <= value <= MAX_MILLIS:
        raise InvalidInput(
            f"{what} {value} is not a time in milliseconds from 0 to {MAX_MILLIS} (year 9999)",
            {"field": what},
        )
    return value


def max_results(value: object, limit: int = MAX_RESULTS_LIMIT) -> int:
    """``value`` if it is a page size from 1 to ``limit`` (see ``MAX_RESULTS_LIMIT``)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise InvalidInput(
            f"max_results must be an integer from 1 to {limit}, got {shown(value)}",
            {"field": "max_results"},
        )
    return value


def key(kind: str, value: object) -> str:
    """A ``kind`` (metric, param, tag) key the search language can name: at most
    ``KEY_LENGTH`` characters from ``KEY_CHARS`` and inner spaces, no ``..``, not rooted, no
    ``.`` between slashes (registry tag keys travel in URL paths, slashes kept)."""
    if isinstance(value, str) and value in _valid_keys:
        return value
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{kind} key must be a non-empty string, got {shown(value)}")
    if len(value) > KEY_LENGTH:
        raise InvalidInput(
            f"{kind} key {value[:40]!r}… is {len(value)} characters; at most {KEY_LENGTH}",
            {"key": value[:40]},
        )
    if not _KEY.fullmatch(value) or value != value.strip() or value[0] == "/":
        raise InvalidInput(
            f"{kind} key {shown(value)} has characters the search language cannot name: use "
            "letters, digits, spaces (not at the ends) and _ - . / :",
            {"key": value},
        )
    if ".." in value or "." in value.split("/"):  # a URL path drops a '.' or '..' segment
        raise InvalidInput(
            f"{kind} key {shown(value)} holds '..' or a '.' segment, which URL paths drop: "
            "name it without them",
            {"key": value},
        )
    if len(_valid_keys) < 100_000:
        _valid_keys.add(value)
    return value


def member(kind: type[E], value: E | str, what: str) -> E:
    """``value`` as a member of ``kind`` (strings matched case-insensitively by value)."""
    try:
        return kind(value.upper() if isinstance(value, str) else value)
    except ValueError:
        known = ", ".join(kind.__members__)
        raise InvalidInput(f"unknown {what} {value!r} (known: {known})") from None


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_duration(value: object, what: str) -> int:
    """Seconds from ``3600``, ``"3600"``, ``"90s"``, ``"15m"``, ``"1h"`` or ``"7d"``.

    Raises:
        InvalidInput: anything else, naming ``what``.
    """
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a duration such as '1h', got {shown(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,9})\s*([smhd]?)\s*", value)
        if match:
            return int(match.group(1)) * _UNITS[match.group(2) or "s"]
    raise InvalidInput(
        f"{what} must be a duration such as 90s, 15m, 1h or 7d, got {shown(value)}",
        {"field": what},
    )
