"""Cron expressions, read by cronsim in the schedule's time zone: a tick is an instant (ms
since the epoch), so "0 3 * * *" in Europe/Paris is 03:00 there in winter and in summer (a
time a DST change skips runs at the first minute after it)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from gnomon.errors import InvalidInput

FIELDS = "minute hour day-of-month month day-of-week"


def check_cron(expr: object) -> str:
    """``expr`` if it is a five-field cron that fires; else InvalidInput saying why."""
    if not isinstance(expr, str) or not expr.strip():
        raise InvalidInput(f"a cron is a string of five fields ({FIELDS}), not {expr!r}")
    if len(expr) > 200:
        raise InvalidInput(f"cron is {len(expr)} characters; at most 200")
    fields = expr.split()
    if len(fields) != 5:
        raise InvalidInput(
            f"invalid cron {expr!r}: {len(fields)} field(s), a cron has five ({FIELDS})"
        )
    try:
        CronSim(expr, datetime(2000, 1, 1))
    except CronSimError as exc:
        message = str(exc)
        raise InvalidInput(f"invalid cron {expr!r}: {message[:1].lower()}{message[1:]}") from None
    return " ".join(fields)


def check_timezone(name: object) -> str:
    if not isinstance(name, str) or not name or len(name) > 64:
        raise InvalidInput(f"a time zone is an IANA name such as UTC or Europe/Paris, not {name!r}")
    zone(name)
    return name


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {name[:64]!r}: use an IANA name such as UTC or Europe/Paris"
        ) from None


def next_after(expr: str, tz: str, ms: int) -> int:
    """The first tick strictly after ``ms``."""
    return _ms(next(CronSim(expr, _at(ms, tz))))


def latest_by(expr: str, tz: str, ms: int) -> int:
    """The last tick at or before ``ms``."""
    return _ms(next(CronSim(expr, _at(ms + 1, tz), reverse=True)))


def ticks_between(expr: str, tz: str, first_ms: int, last_ms: int, limit: int) -> list[int]:
    """Ticks from ``first_ms`` to ``last_ms`` (both included), oldest first, at most ``limit``."""
    found: list[int] = []
    for moment in CronSim(expr, _at(first_ms - 1, tz)):
        tick = _ms(moment)
        if tick > last_ms or len(found) >= limit:
            break
        found.append(tick)
    return found


def explain(expr: str) -> str:
    """ "At 03:00 every day", or the expression itself where cronsim cannot say it."""
    try:
        return CronSim(expr, datetime(2000, 1, 1)).explain()
    except Exception:  # explain() covers most expressions, not every one
        return expr


def _at(ms: int, tz: str) -> datetime:
    seconds, millis = divmod(ms, 1000)  # exact: no float, no wall-clock arithmetic
    return datetime.fromtimestamp(seconds, zone(tz)).replace(microsecond=millis * 1000)


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


__all__ = ["check_cron", "check_timezone", "explain", "latest_by", "next_after", "ticks_between"]
