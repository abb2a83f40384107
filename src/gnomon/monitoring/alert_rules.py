"""Alert rules on monitoring figures, and the state machine that turns windows into events.

A rule watches one figure of one monitor (``drift.share``, ``performance.f1``, ...) and
compares each window's value with a threshold. Its state moves like this::

    ok ──holds──▶ pending ──holds for_windows times in a row──▶ firing ──fails──▶ ok
     ▲               │                                            │
     └────fails──────┘                     (emits ``fired`` once) └ emits ``resolved``

Everything here is pure: :func:`step` takes a state and a window's value and returns the next
state and at most one :class:`AlertEvent`; the caller stores both and hands events to
``channels.deliver`` unless :func:`silenced` says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from numbers import Real
from typing import Any, ClassVar

from gnomon._types import now_ms
from gnomon.checks import MAX_MILLIS, millis, shown
from gnomon.errors import InvalidInput
from gnomon.monitoring import alert_checks as check

OPS = (">", ">=", "<", "<=")
SEVERITIES = ("info", "warning", "critical")
STATUSES = ("ok", "pending", "firing")
KINDS = ("fired", "resolved")
WILDCARD = "*"
MAX_FIGURE_LENGTH = 300
MAX_FOR_WINDOWS = 1_000
MAX_RULE_CHANNELS = 20
MAX_SILENCE_TEXT = 500


def holds(value: float, op: str, threshold: float) -> bool:
    if op == ">":
        return value > threshold
    if op == ">=":
        return value >= threshold
    if op == "<":
        return value < threshold
    return value <= threshold


@dataclass(frozen=True, slots=True)
class AlertRule:
    """Fire when ``figure`` of ``monitor`` is ``op threshold`` for ``for_windows`` windows in a
    row; ``channels`` name where events go.

    Raises:
        InvalidInput: a field breaks its bound; the message names the field and the value.

    Example:
        >>> AlertRule("drift-high", "web-drift", "drift.share", ">", 0.5, for_windows=3)
    """

    name: str
    monitor: str
    figure: str
    op: str
    threshold: float
    for_windows: int = 1
    channels: tuple[str, ...] = ()
    severity: str = "warning"

    OWNER: ClassVar[str] = "alert rule"

    def __post_init__(self) -> None:
        o = self.OWNER
        object.__setattr__(self, "name", check.name(o, "name", self.name))
        object.__setattr__(self, "monitor", check.name(o, "monitor", self.monitor))
        figure = check.printable(o, "figure", self.figure, MAX_FIGURE_LENGTH)
        object.__setattr__(self, "figure", figure)
        object.__setattr__(self, "op", check.choice(o, "op", self.op, OPS))
        threshold = check.number(o, "threshold", self.threshold, -math.inf, math.inf)
        object.__setattr__(self, "threshold", threshold)
        windows = check.integer(o, "for_windows", self.for_windows, 1, MAX_FOR_WINDOWS)
        object.__setattr__(self, "for_windows", windows)
        channels = check.items(o, "channels", self.channels, 0, MAX_RULE_CHANNELS)
        for channel in channels:
            check.name(o, "channels", channel)
        object.__setattr__(self, "channels", channels)
        object.__setattr__(self, "severity", check.choice(o, "severity", self.severity, SEVERITIES))

    @property
    def condition(self) -> str:
        """``drift.share > 0.5``: the rule as people read it."""
        return f"{self.figure} {self.op} {self.threshold:g}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "monitor": self.monitor,
            "figure": self.figure,
            "op": self.op,
            "threshold": self.threshold,
            "for_windows": self.for_windows,
            "channels": list(self.channels),
            "severity": self.severity,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertRule:
        """The rule ``to_dict`` wrote, or one from a request body (unknown keys refused).

        Raises:
            InvalidInput: not an object, an unknown or missing key, or a field out of bounds.
        """
        rule: AlertRule = check.build(cls.OWNER, cls, data)
        return rule


@dataclass(frozen=True, slots=True)
class AlertState:
    """Where a rule stands: ``consecutive`` windows in a row its condition held, ``since_ms``
    the end of the window it started firing on (``None`` unless firing), and the last window
    seen, so a window fed again is ignored."""

    status: str = "ok"
    consecutive: int = 0
    since_ms: int | None = None
    last_value: float | None = None
    last_window_end_ms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "consecutive": self.consecutive,
            "since_ms": self.since_ms,
            "last_value": _json_number(self.last_value),
            "last_window_end_ms": self.last_window_end_ms,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertState:
        """The state ``to_dict`` wrote.

        Raises:
            InvalidInput: a status, count or time that no state holds.
        """
        o = "alert state"
        since, last_end = data.get("since_ms"), data.get("last_window_end_ms")
        last_value = data.get("last_value")
        return cls(
            status=check.choice(o, "status", data.get("status"), STATUSES),
            consecutive=check.integer(o, "consecutive", data.get("consecutive"), 0, 2**62),
            since_ms=None if since is None else check.integer(o, "since_ms", since, 0, MAX_MILLIS),
            last_value=None
            if last_value is None
            else _number_from_json(o, "last_value", last_value),
            last_window_end_ms=(
                None
                if last_end is None
                else check.integer(o, "last_window_end_ms", last_end, 0, MAX_MILLIS)
            ),
        )


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """A rule started (``fired``) or stopped (``resolved``) firing. ``to_dict`` is the JSON
    body channels send; ``dedup_key`` is the same for the ``fired`` and the ``resolved`` event
    of one firing episode and differs between episodes, so receivers can pair and dedup them."""

    rule: str
    monitor: str
    figure: str
    kind: str
    value: float
    threshold: float
    op: str
    severity: str
    window_end_ms: int
    at_ms: int
    since_ms: int
    # The monitor's workspace (its name): operator channels serve every workspace, and
    # monitors of two workspaces may share a name.
    workspace: str = ""

    @property
    def dedup_key(self) -> str:
        prefix = f"{self.workspace}/" if self.workspace else ""
        return f"{prefix}{self.monitor}/{self.rule}/{self.since_ms}"

    @property
    def title(self) -> str:
        """``FIRING warning: drift.share > 0.5 on monitor web-drift``."""
        state = "FIRING" if self.kind == "fired" else "RESOLVED"
        condition = f"{self.figure} {self.op} {self.threshold:g}"
        return f"{state} {self.severity}: {condition} on monitor {self.monitor}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; a non-finite value is written ``"Infinity"``/``"-Infinity"`` (JSON has
        no infinity; ``float()`` and JavaScript's ``Number()`` read these back)."""
        return {
            "rule": self.rule,
            "monitor": self.monitor,
            "figure": self.figure,
            "kind": self.kind,
            "value": _json_number(self.value),
            "threshold": self.threshold,
            "op": self.op,
            "severity": self.severity,
            "window_end_ms": self.window_end_ms,
            "at_ms": self.at_ms,
            "since_ms": self.since_ms,
            "workspace": self.workspace,
            "dedup_key": self.dedup_key,
            "title": self.title,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertEvent:
        """The event ``to_dict`` wrote (its derived ``dedup_key`` and ``title`` are skipped).

        Raises:
            InvalidInput: not an object, or an unknown or missing key.
        """
        if not isinstance(data, Mapping):
            raise InvalidInput(f"alert event must be an object, got {shown(data)}")
        body = {k: v for k, v in data.items() if k not in ("dedup_key", "title")}
        if "value" in body:
            body["value"] = _number_from_json("alert event", "value", body["value"])
        event: AlertEvent = check.build("alert event", cls, body)
        return event


def step(
    rule: AlertRule,
    state: AlertState,
    value: float | None,
    window_end_ms: int,
    *,
    at_ms: int | None = None,
) -> tuple[AlertState, AlertEvent | None]:
    """Feed one window's ``value`` of ``rule.figure``; return the next state and the event, if
    the rule started or stopped firing.

    - ``None`` or NaN (the figure was not computed, too little data) returns ``state`` as it is:
      such a window neither extends nor breaks a streak, and never fires or resolves.
    - A window ending at or before the last one seen is ignored, so re-running a window does
      not count it twice.
    - A firing rule whose condition still holds emits nothing: ``fired`` comes once per
      episode, and ``resolved`` once when the condition fails.

    Args:
        at_ms: when the event happened (default: now); only events carry it.

    Raises:
        InvalidInput: ``value`` is not a number, or ``window_end_ms`` is not a time in ms.

    Example:
        >>> state, event = step(rule, AlertState(), 0.7, window_end_ms=1_700_000_000_000)
    """
    window_end_ms = millis("window_end_ms", window_end_ms)
    value = _window_value(rule, value)
    if state.last_window_end_ms is not None and window_end_ms <= state.last_window_end_ms:
        return state, None
    if value is None or math.isnan(value):
        return state, None
    seen = replace(state, last_value=value, last_window_end_ms=window_end_ms)
    if not holds(value, rule.op, rule.threshold):
        if state.status != "firing":
            return replace(seen, status="ok", consecutive=0, since_ms=None), None
        assert state.since_ms is not None  # a firing state always has one
        event = _event(rule, "resolved", value, window_end_ms, at_ms, state.since_ms)
        return replace(seen, status="ok", consecutive=0, since_ms=None), event
    consecutive = state.consecutive + 1
    if state.status == "firing":
        return replace(seen, consecutive=consecutive), None
    if consecutive < rule.for_windows:
        return replace(seen, status="pending", consecutive=consecutive), None
    event = _event(rule, "fired", value, window_end_ms, at_ms, window_end_ms)
    return replace(seen, status="firing", consecutive=consecutive, since_ms=window_end_ms), event


def _window_value(rule: AlertRule, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InvalidInput(
            f"value of {rule.figure!r} must be a number or None, got {shown(value)}",
            {"field": "value"},
        )
    if isinstance(value, int) and abs(value) >= 2**1024:  # past float's range: float() raises
        return math.inf if value > 0 else -math.inf
    return float(value)


def _event(
    rule: AlertRule, kind: str, value: float, window_end_ms: int, at_ms: int | None, since: int
) -> AlertEvent:
    return AlertEvent(
        rule=rule.name,
        monitor=rule.monitor,
        figure=rule.figure,
        kind=kind,
        value=value,
        threshold=rule.threshold,
        op=rule.op,
        severity=rule.severity,
        window_end_ms=window_end_ms,
        at_ms=now_ms() if at_ms is None else at_ms,
        since_ms=since,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Silence:
    """Mutes events of ``monitor`` and ``rule`` (a name, or ``*`` for any) from ``starts_ms``
    up to, not including, ``ends_ms``.

    Raises:
        InvalidInput: a bad name or text, or a window that does not end after it starts.
    """

    monitor: str = WILDCARD
    rule: str = WILDCARD
    starts_ms: int
    ends_ms: int
    comment: str = ""
    created_by: str = ""

    OWNER: ClassVar[str] = "silence"

    def __post_init__(self) -> None:
        o = self.OWNER
        if self.monitor != WILDCARD:
            check.name(o, "monitor", self.monitor)
        if self.rule != WILDCARD:
            check.name(o, "rule", self.rule)
        check.integer(o, "starts_ms", self.starts_ms, 0, MAX_MILLIS)
        check.integer(o, "ends_ms", self.ends_ms, 0, MAX_MILLIS)
        if self.ends_ms <= self.starts_ms:
            raise check.invalid(
                o, "ends_ms", f"must be after starts_ms {self.starts_ms}", self.ends_ms
            )
        check.printable(o, "comment", self.comment, MAX_SILENCE_TEXT, empty=True)
        check.printable(o, "created_by", self.created_by, MAX_SILENCE_TEXT, empty=True)

    def matches(self, event: AlertEvent, now_ms: int) -> bool:
        return (
            self.starts_ms <= now_ms < self.ends_ms
            and self.monitor in (WILDCARD, event.monitor)
            and self.rule in (WILDCARD, event.rule)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor,
            "rule": self.rule,
            "starts_ms": self.starts_ms,
            "ends_ms": self.ends_ms,
            "comment": self.comment,
            "created_by": self.created_by,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Silence:
        """The silence ``to_dict`` wrote, or one from a request body (unknown keys refused).

        Raises:
            InvalidInput: not an object, an unknown or missing key, or a field out of bounds.
        """
        silence: Silence = check.build(cls.OWNER, cls, data)
        return silence


def silenced(event: AlertEvent, silences: Iterable[Silence], now_ms: int) -> bool:
    """Whether a silence active at ``now_ms`` covers ``event``.

    A silenced event is still the rule's history: the caller records it (and the state
    :func:`step` returned) as usual, and only skips delivering it to channels. A ``resolved``
    event is matched the same way, so an episode silenced when it fired and resolved after
    the silence ended delivers only its ``resolved``.
    """
    return any(silence.matches(event, now_ms) for silence in silences)


def _json_number(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    return "Infinity" if value > 0 else "-Infinity"


def _number_from_json(owner: str, field: str, value: object) -> float:
    if value in ("Infinity", "-Infinity"):
        return float(str(value))
    return check.number(owner, field, value, -math.inf, math.inf)
