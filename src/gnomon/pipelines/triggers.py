"""What a schedule has due at ``now``: its cron ticks (with catch-up), its dataset's newest
version and its monitor's new alerts, each a ``Due`` the worker then tries to claim.

Catch-up, for cron ticks missed while no worker ran:

- ``latest``: only the most recent missed tick runs;
- ``all``: each runs, oldest first, at most ``MAX_TICKS_PER_ROUND`` a round;
- ``none``: a tick found more than ``grace_ms`` late is skipped; the next one runs.

Ticks that do not run are recorded as one ``skipped`` tick saying how many and when.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gnomon._types import Scope
from gnomon.errors import NotFound
from gnomon.pipelines import cron
from gnomon.pipelines.schedule_entities import Schedule

MAX_TICKS_PER_ROUND = 100  # per schedule and trigger: a year of missed minutes is not a burst
_COUNTED = 1000  # missed ticks are counted up to this many in the skipped tick's message


@dataclass(frozen=True, slots=True)
class Due:
    """A tick to claim, the cursor its claim moves, and what the pipeline is given."""

    tick: str
    cursor: str  # "next_ms" | "seen_version" | "seen_alert_ms"
    moved_to: int
    params: dict[str, Any] = field(default_factory=dict)  # given if the pipeline declares them
    skipped: str | None = None  # a message: record the tick as skipped, run nothing
    claim: bool = True  # False: only move the cursor (the trigger's dues before it are done)


def cron_due(schedule: Schedule, now: int, grace_ms: int) -> Iterator[Due]:
    expr, tz, first = schedule.cron, schedule.timezone, schedule.next_ms
    if expr is None or first is None or first > now:
        return
    if schedule.catchup == "all":
        for tick in cron.ticks_between(expr, tz, first, now, MAX_TICKS_PER_ROUND):
            yield Due(f"cron:{tick}", "next_ms", cron.next_after(expr, tz, tick))
        return
    last = cron.latest_by(expr, tz, now)
    runs = schedule.catchup == "latest" or now - last <= grace_ms
    missed_until = cron.latest_by(expr, tz, last - 1) if runs else last
    after = cron.next_after(expr, tz, last)
    if missed_until >= first:
        count = len(cron.ticks_between(expr, tz, first, missed_until, _COUNTED))
        counted = f"{count}" if count < _COUNTED else f"over {_COUNTED - 1}"
        said = "the next one will run" if not runs else "only the latest runs"
        if runs and schedule.catchup == "none":
            said = "the one on time runs"
        message = (
            f"{counted} tick(s) missed while no worker ran, {_utc(first)} to "
            f"{_utc(missed_until)}: skipped (catchup={schedule.catchup}: {said})"
        )
        yield Due(f"cron:{missed_until}", "next_ms", after, skipped=message)
    if runs:
        yield Due(f"cron:{last}", "next_ms", after)


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def dataset_due(schedule: Schedule, latest: int | None) -> Iterator[Due]:
    """One tick for the dataset's ``latest`` version, if newer than the one last seen (the
    versions between are not run one by one: the newest holds what they brought)."""
    if (
        schedule.dataset is not None
        and latest is not None
        and latest > (schedule.seen_version or 0)
    ):
        ref = f"{schedule.dataset}@{latest}"
        yield Due(f"dataset:{latest}", "seen_version", latest, {"dataset": ref})


def alert_due(events: Sequence[tuple[str, dict[str, Any]]], taken: set[str]) -> Iterator[Due]:
    """One tick for each firing event (``(id, event)``, a page read from ``seen_alert_ms``,
    oldest first) not ticked yet; then the cursor's move, once they are claimed.

    The cursor stays on the newest event's time, not past it: another event of that instant
    may not be readable yet (a monitor run's events share its time); those already ticked
    are passed by their tick rows. A full page of one instant is passed, or it would be
    read forever.
    """
    if not events:
        return
    for event_id, event in events:
        tick = f"alert:{event_id}"
        if tick not in taken:
            at = int(event["at_ms"])
            yield Due(tick, "seen_alert_ms", at, {"alert": {"id": event_id, **event}})
    last = int(events[-1][1]["at_ms"])
    stuck = len(events) >= MAX_TICKS_PER_ROUND and int(events[0][1]["at_ms"]) == last
    yield Due("", "seen_alert_ms", last + 1 if stuck else last, claim=False)


def latest_version(datasets: Any, scope: Scope, name: str) -> int | None:
    """The dataset's latest version through the data capability; None while it has none."""
    try:
        found = datasets.get(scope, name)
    except NotFound:
        return None
    return int(found.latest_version) or None


__all__ = [
    "MAX_TICKS_PER_ROUND",
    "Due",
    "alert_due",
    "cron_due",
    "dataset_due",
    "latest_version",
]
