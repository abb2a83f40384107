from __future__ import annotations

import json
import math
from typing import Any

import pytest

from gnomon.errors import InvalidInput
from gnomon.monitoring.alert_rules import (
    AlertEvent,
    AlertRule,
    AlertState,
    Silence,
    silenced,
    step,
)

MINUTE = 60_000
T0 = 1_700_000_000_000


def rule(**changes: Any) -> AlertRule:
    fields: dict[str, Any] = {
        "name": "drift-high",
        "monitor": "web-drift",
        "figure": "drift.share",
        "op": ">",
        "threshold": 0.5,
    }
    return AlertRule(**{**fields, **changes})


def feed(
    r: AlertRule, values: list[float | None], state: AlertState | None = None, start: int = T0
) -> tuple[AlertState, list[AlertEvent]]:
    """Feed one value per minute-long window; return the last state and every event."""
    state = state or AlertState()
    events = []
    for index, value in enumerate(values):
        state, event = step(r, state, value, start + index * MINUTE, at_ms=start + index * MINUTE)
        if event:
            events.append(event)
    return state, events


# The state machine


def test_fires_after_for_windows_consecutive_windows_and_not_before() -> None:
    r = rule(for_windows=3)
    state, events = feed(r, [0.7, 0.8])
    assert (state.status, state.consecutive, events) == ("pending", 2, [])
    state, events = feed(r, [0.9], state, start=T0 + 2 * MINUTE)
    assert state.status == "firing"
    assert state.since_ms == T0 + 2 * MINUTE
    [event] = events
    assert (event.kind, event.value, event.window_end_ms) == ("fired", 0.9, T0 + 2 * MINUTE)
    assert (event.rule, event.monitor, event.figure, event.op) == (
        "drift-high",
        "web-drift",
        "drift.share",
        ">",
    )
    assert (event.threshold, event.severity) == (0.5, "warning")


def test_a_false_window_breaks_the_streak() -> None:
    state, events = feed(rule(for_windows=2), [0.7, 0.1, 0.7])
    assert (state.status, state.consecutive, events) == ("pending", 1, [])


def test_for_windows_1_fires_on_the_first_window() -> None:
    state, [event] = feed(rule(), [0.6])
    assert state.status == "firing" and event.kind == "fired"


@pytest.mark.parametrize(
    ("op", "value", "fires"),
    [
        (">", 0.5, False),
        (">", 0.51, True),
        (">=", 0.5, True),
        (">=", 0.49, False),
        ("<", 0.5, False),
        ("<", 0.49, True),
        ("<=", 0.5, True),
        ("<=", 0.51, False),
    ],
)
def test_each_operator_compares_with_the_threshold(op: str, value: float, fires: bool) -> None:
    _, events = feed(rule(op=op), [value])
    assert bool(events) is fires


def test_a_firing_alert_does_not_fire_again_while_the_condition_holds() -> None:
    state, events = feed(rule(for_windows=2), [0.7, 0.8, 0.9, 0.95, 0.99])
    assert [e.kind for e in events] == ["fired"]
    assert (state.status, state.consecutive, state.last_value) == ("firing", 5, 0.99)


def test_resolves_when_the_condition_fails_while_firing() -> None:
    state, events = feed(rule(), [0.7, 0.8, 0.2])
    fired, resolved = events
    assert resolved.kind == "resolved" and resolved.value == 0.2
    assert resolved.window_end_ms == T0 + 2 * MINUTE
    assert resolved.dedup_key == fired.dedup_key == f"web-drift/drift-high/{T0}"
    assert (state.status, state.consecutive, state.since_ms) == ("ok", 0, None)


def test_a_pending_alert_that_clears_resolves_nothing() -> None:
    state, events = feed(rule(for_windows=3), [0.7, 0.2])
    assert (state.status, events) == ("ok", [])


def test_fires_again_after_resolving_with_a_new_dedup_key() -> None:
    _, events = feed(rule(), [0.7, 0.2, 0.2, 0.9])
    assert [e.kind for e in events] == ["fired", "resolved", "fired"]
    assert events[2].dedup_key == f"web-drift/drift-high/{T0 + 3 * MINUTE}"
    assert events[2].dedup_key != events[0].dedup_key


@pytest.mark.parametrize("missing", [None, math.nan])
def test_a_missing_value_leaves_the_state_as_it_is(missing: float | None) -> None:
    r = rule(for_windows=2)
    pending, _ = feed(r, [0.7])
    assert step(r, pending, missing, T0 + MINUTE) == (pending, None)
    firing, _ = feed(r, [0.7, 0.8])
    # Never resolves on a missing value, and the window may be fed again once it has one.
    assert step(r, firing, missing, T0 + 5 * MINUTE) == (firing, None)
    state, event = step(r, firing, 0.1, T0 + 5 * MINUTE)
    assert state.status == "ok" and event is not None and event.kind == "resolved"


def test_missing_windows_neither_extend_nor_break_a_streak() -> None:
    state, [event] = feed(rule(for_windows=3), [0.7, None, 0.8, math.nan, 0.9])
    assert event.window_end_ms == T0 + 4 * MINUTE
    assert state.consecutive == 3


def test_a_window_fed_again_or_an_older_one_is_ignored() -> None:
    r = rule(for_windows=2)
    state, _ = feed(r, [0.7, 0.8])
    last = T0 + MINUTE
    assert step(r, state, 0.9, last) == (state, None)  # the same window re-run
    assert step(r, state, 0.1, last - 1) == (state, None)  # an older one: no resolve
    pending, _ = feed(r, [0.7])
    assert step(r, pending, 0.7, T0) == (pending, None)  # counted once, not twice


def test_infinite_values_compare_and_survive_json() -> None:
    state, [event] = feed(rule(), [math.inf])
    body = json.loads(json.dumps(event.to_dict(), allow_nan=False))
    assert body["value"] == "Infinity"
    assert AlertEvent.from_dict(body) == event
    assert AlertState.from_dict(json.loads(json.dumps(state.to_dict(), allow_nan=False))) == state
    _, [low] = feed(rule(op="<"), [-(10**400)])
    assert low.value == -math.inf


def test_step_refuses_values_and_times_that_are_not_numbers() -> None:
    with pytest.raises(InvalidInput, match=r"value of 'drift\.share' must be a number"):
        step(rule(), AlertState(), "0.7", T0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="value"):
        step(rule(), AlertState(), True, T0)
    with pytest.raises(InvalidInput, match="window_end_ms"):
        step(rule(), AlertState(), 0.7, -1)


def test_event_to_dict_is_json_with_its_dedup_key_and_title() -> None:
    _, [event] = feed(rule(severity="critical"), [0.7])
    body = event.to_dict()
    assert json.loads(json.dumps(body)) == body
    assert body["dedup_key"] == f"web-drift/drift-high/{T0}"
    assert body["title"] == "FIRING critical: drift.share > 0.5 on monitor web-drift"
    assert body["kind"] == "fired" and body["at_ms"] == T0
    assert AlertEvent.from_dict(body) == event


def test_state_round_trips_through_its_dict() -> None:
    state, _ = feed(rule(), [0.7])
    assert AlertState.from_dict(state.to_dict()) == state
    assert AlertState.from_dict(AlertState().to_dict()) == AlertState()
    with pytest.raises(InvalidInput, match="status"):
        AlertState.from_dict({**state.to_dict(), "status": "burning"})


# Silences


def fired_event(monitor: str = "web-drift", name: str = "drift-high") -> AlertEvent:
    _, [event] = feed(rule(monitor=monitor, name=name), [0.7])
    return event


def test_a_silence_covers_events_inside_its_window_only() -> None:
    silence = Silence(monitor="web-drift", rule="drift-high", starts_ms=T0, ends_ms=T0 + MINUTE)
    event = fired_event()
    assert silenced(event, [silence], T0)
    assert silenced(event, [silence], T0 + MINUTE - 1)
    assert not silenced(event, [silence], T0 - 1)
    assert not silenced(event, [silence], T0 + MINUTE)  # the end is not included


def test_a_silence_matches_the_monitor_and_the_rule_exactly_or_by_wildcard() -> None:
    window = {"starts_ms": T0, "ends_ms": T0 + MINUTE}
    event = fired_event()
    assert silenced(event, [Silence(monitor="web-drift", **window)], T0)  # rule "*"
    assert silenced(event, [Silence(rule="drift-high", **window)], T0)  # monitor "*"
    assert silenced(event, [Silence(**window)], T0)  # everything
    assert not silenced(event, [Silence(monitor="web-drif", **window)], T0)
    assert not silenced(event, [Silence(monitor="web-drift", rule="other", **window)], T0)
    assert not silenced(fired_event(monitor="api"), [Silence(monitor="web-drift", **window)], T0)
    assert not silenced(event, [], T0)


def test_silence_checks_its_fields_and_round_trips() -> None:
    silence = Silence(
        monitor="web-drift", starts_ms=T0, ends_ms=T0 + 1, comment="deploy", created_by="ana"
    )
    assert Silence.from_dict(silence.to_dict()) == silence
    with pytest.raises(InvalidInput, match="silence ends_ms must be after starts_ms") as caught:
        Silence(starts_ms=T0, ends_ms=T0)
    assert caught.value.details == {"field": "ends_ms"}
    for field, value in [("monitor", "a b"), ("rule", ""), ("comment", "x\ny")]:
        with pytest.raises(InvalidInput, match=f"silence {field}"):
            Silence.from_dict({**silence.to_dict(), field: value})
    with pytest.raises(InvalidInput, match="created_by"):
        Silence.from_dict({**silence.to_dict(), "created_by": "x" * 501})
    with pytest.raises(InvalidInput, match="starts_ms"):
        Silence(starts_ms=-5, ends_ms=T0)
    with pytest.raises(InvalidInput, match="silence has no field 'until'"):
        Silence.from_dict({**silence.to_dict(), "until": 1})


# Rule specs


def test_rule_round_trips_through_its_dict() -> None:
    r = rule(
        figure="performance.segment.country=FR.f1",
        op="<=",
        threshold=3,
        for_windows=4,
        channels=["ops", "mail"],
        severity="info",
    )
    assert r.channels == ("ops", "mail") and r.threshold == 3.0
    assert AlertRule.from_dict(r.to_dict()) == r
    assert AlertRule.from_dict(json.loads(json.dumps(r.to_dict()))) == r
    assert r.condition == "performance.segment.country=FR.f1 <= 3"


GOOD_RULE = rule(channels=("ops",)).to_dict()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "a" * 101),
        ("name", "drift high"),
        ("name", ".."),
        ("name", "règle"),
        ("name", 7),
        ("monitor", ""),
        ("monitor", "web/drift"),
        ("figure", ""),
        ("figure", "f" * 301),
        ("figure", "drift\nshare"),
        ("figure", "drift\x00"),
        ("figure", None),
        ("op", "=="),
        ("op", "gt"),
        ("threshold", math.inf),
        ("threshold", math.nan),
        ("threshold", "0.5"),
        ("threshold", True),
        ("for_windows", 0),
        ("for_windows", 1001),
        ("for_windows", 2.5),
        ("for_windows", True),
        ("channels", "ops"),
        ("channels", ["ops", "ops"]),
        ("channels", ["bad name"]),
        ("channels", [f"c{i}" for i in range(21)]),
        ("severity", "page"),
        ("severity", "WARNING"),
    ],
)
def test_every_rule_bound_names_its_field(field: str, value: object) -> None:
    with pytest.raises(InvalidInput, match=f"alert rule {field} ") as caught:
        AlertRule.from_dict({**GOOD_RULE, field: value})
    assert caught.value.details == {"field": field}


def test_the_rule_bounds_themselves_are_allowed() -> None:
    r = rule(
        name="a" * 100,
        figure="f" * 300,
        for_windows=1000,
        channels=tuple(f"c{i}" for i in range(20)),
        threshold=-1e300,
    )
    assert AlertRule.from_dict(r.to_dict()) == r


def test_rule_from_dict_refuses_unknown_and_missing_keys() -> None:
    with pytest.raises(InvalidInput, match="alert rule has no field 'treshold'"):
        AlertRule.from_dict({**GOOD_RULE, "treshold": 1})
    missing = {k: v for k, v in GOOD_RULE.items() if k != "figure"}
    with pytest.raises(InvalidInput, match="alert rule figure is required"):
        AlertRule.from_dict(missing)
    with pytest.raises(InvalidInput, match="alert rule must be an object"):
        AlertRule.from_dict([1, 2])  # type: ignore[arg-type]


def test_an_error_shows_a_long_value_shortened() -> None:
    with pytest.raises(InvalidInput) as caught:
        rule(name="x" * 100_000)
    assert len(caught.value.message) < 300
