"""Checks on identity inputs and the login rate limit's arithmetic, used by the auth service."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from gnomon import checks
from gnomon.auth.entities import Role
from gnomon.auth.tables import NAME_LENGTH
from gnomon.errors import InvalidInput

MIN_PASSWORD_LENGTH = 8
# argon2 accepts any length, but hashing megabytes per guess would be a cheap way to load the
# server; no real password is this long.
MAX_PASSWORD_LENGTH = 1024
TOKEN_NAME_LENGTH = 128
ADDRESS_LENGTH = 64
MAX_EXPIRY_DAYS = 3650

_ROLES = tuple(r.value for r in Role)
_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_name(kind: str, name: object) -> str:
    """A user or workspace name: 1 to 64 letters, digits, ``_``, ``.`` and ``-``."""
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"{kind} name must be a non-empty string, got {name!r}")
    if len(name) > NAME_LENGTH:
        raise InvalidInput(
            f"{kind} name {name[:40]!r}… is {len(name)} characters; at most {NAME_LENGTH}"
        )
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"{kind} name {name!r} may hold only letters, digits and _ . -", {"name": name}
        )
    return name


def check_new_name(kind: str, name: object) -> str:
    """``check_name``, and not ``.`` or ``..``, which no URL path can carry. Only for new
    users and workspaces: one named so before stays reachable by name where it was."""
    return checks.not_dots(f"{kind} name", check_name(kind, name))


def check_password(password: object) -> str:
    # The message never repeats the password: it may be a real one with a typo.
    if not isinstance(password, str):
        raise InvalidInput(f"password must be a string, got {type(password).__name__}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"password must be at most {MAX_PASSWORD_LENGTH} characters")
    return password


def check_token_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"token name must be a non-empty string, got {name!r}")
    if len(name) > TOKEN_NAME_LENGTH or _CONTROL.search(name):
        raise InvalidInput(
            f"token name {name[:40]!r} must be at most {TOKEN_NAME_LENGTH} printable characters"
        )
    return name


def check_expiry_days(days: object) -> int | None:
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_EXPIRY_DAYS:
        raise InvalidInput(
            f"expires_in_days must be a whole number from 1 to {MAX_EXPIRY_DAYS}, got {days!r}"
        )
    return days


def parse_role(role: object) -> Role:
    if isinstance(role, str) and role in _ROLES:
        return Role(role)
    choices = ", ".join(_ROLES)
    raise InvalidInput(f"role must be one of {choices}, got {role!r}")


def check_time(what: str, value: object) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInput(f"{what} must be milliseconds since the epoch, got {value!r}")
    return value


def clean_address(address: object) -> str | None:
    """The client address as recorded; it may come from a forwarded header, so it is cut to
    the column's length rather than trusted."""
    if not isinstance(address, str) or not address:
        return None
    return address[:ADDRESS_LENGTH]


def check_label(what: str, value: object, length: int, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value) or len(value) > length:
        raise InvalidInput(f"{what} must be a string of at most {length} characters, got {value!r}")
    return value


def check_details(details: object) -> dict[str, Any]:
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise InvalidInput(f"audit details must be a mapping, got {type(details).__name__}")
    try:
        json.dumps(details)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"audit details must be JSON-serialisable: {exc}") from None
    return dict(details)
