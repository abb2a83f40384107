"""Alerting: rules on monitor figures, the channels events go to, silences, and delivery.

The rules' state machine is :mod:`gnomon.monitoring.alert_rules`; delivery is
:mod:`gnomon.monitoring.channels`. Here: what a workspace may configure, and what a run
does with the events its windows raised.

Clients (a server's users) may define webhook, log and mail channels without credentials.
Channels that run programs or log in to a mail server are the operator's
(:mod:`gnomon.monitoring.operator`), available to the workspaces the operator chose. A
server's copy (``trusted=False``) also keeps deliveries out of its own network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from gnomon._types import Scope, now_ms
from gnomon.errors import InvalidInput
from gnomon.monitoring.alert_rules import AlertEvent, AlertRule, AlertState, Silence, silenced, step
from gnomon.monitoring.channel_specs import Channel, channel_from_dict
from gnomon.monitoring.channels import Delivery, deliver
from gnomon.monitoring.entities import Monitor, WindowResult, check_limit, not_found
from gnomon.monitoring.operator import OperatorChannel
from gnomon.monitoring.sql import SqlMonitorStore

MAX_RULES = 100  # per monitor
MAX_CHANNELS = 100  # per workspace
MAX_SILENCES = 1000  # active per workspace
MAX_EVENTS = 10_000  # per listing


class Alerting:
    """``trusted``: embedded (the local user is the operator); a server's copy is not."""

    def __init__(
        self,
        store: SqlMonitorStore,
        operator: Mapping[str, OperatorChannel] | None = None,
        *,
        trusted: bool = True,
        allow_private: bool = True,
    ) -> None:
        self.store = store
        self.operator = dict(operator or {})
        self.trusted = trusted
        self.allow_private = allow_private
        self.deliver: Callable[..., Delivery] = deliver

    # -- configuration ----------------------------------------------------------------------

    def set_rule(self, scope: Scope, rule: AlertRule) -> AlertRule:
        """Add or replace a rule of ``rule.monitor`` (its state starts over).

        Raises:
            NotFound: no such monitor, or a channel the workspace does not have.
            InvalidInput: the monitor has ``MAX_RULES`` rules already.
        """
        known = {c["name"] for c in self.store.channels(scope)} | self._operators(scope)
        unknown = [c for c in rule.channels if c not in known]
        if unknown:
            raise not_found("alert channel", unknown[0])
        names = {spec["name"] for spec, _ in self.store.rules(scope, rule.monitor)}
        if rule.name not in names and len(names) >= MAX_RULES:
            raise InvalidInput(f"monitor {rule.monitor!r} has {MAX_RULES} rules, the most")
        self.store.put_rule(scope, rule.monitor, rule.name, rule.to_dict(), AlertState().to_dict())
        return rule

    def rules(self, scope: Scope, monitor: str) -> list[tuple[AlertRule, AlertState]]:
        return [
            (AlertRule.from_dict(spec), AlertState.from_dict(state))
            for spec, state in self.store.rules(scope, monitor)
        ]

    def delete_rule(self, scope: Scope, monitor: str, name: str) -> None:
        self.store.delete_rule(scope, monitor, name)

    def events(self, scope: Scope, monitor: str, limit: int = 100) -> list[dict[str, Any]]:
        check_limit(limit, MAX_EVENTS)
        return self.store.events(scope, monitor, limit)

    def set_channel(self, scope: Scope, spec: Mapping[str, Any]) -> Channel:
        """Add or replace a channel of the workspace.

        Raises:
            InvalidInput: a bad spec; a command channel, or (through a server) a mail server
                login: only the operator configures those; the name of an operator's
                channel; more than ``MAX_CHANNELS``.
        """
        channel = channel_from_dict(spec)
        if getattr(channel, "trusted_only", False):
            raise InvalidInput(
                "command channels run programs where monitors run: only the operator "
                "configures them (GNOMON_ALERT_CHANNELS), not a client",
                {"field": "kind"},
            )
        if not self.trusted and getattr(channel, "username", None) is not None:
            # The password would go to whichever host the channel names.
            raise InvalidInput(
                "a mail server login is the operator's: it is configured in "
                "GNOMON_ALERT_CHANNELS, never through the API",
                {"field": "username"},
            )
        if channel.name in self.operator:
            raise InvalidInput(f"channel {channel.name!r} is the operator's", {"field": "name"})
        names = {c["name"] for c in self.store.channels(scope)}
        if channel.name not in names and len(names) >= MAX_CHANNELS:
            raise InvalidInput(f"the workspace has {MAX_CHANNELS} alert channels, the most")
        self.store.put_channel(scope, channel.name, channel.to_dict())
        return channel

    def channels(self, scope: Scope) -> list[Channel]:
        return [channel_from_dict(c) for c in self.store.channels(scope)]

    def delete_channel(self, scope: Scope, name: str) -> None:
        self.store.delete_channel(scope, name)

    def silence(self, scope: Scope, silence: Silence) -> str:
        if len(self.store.silences(scope, now_ms())) >= MAX_SILENCES:
            raise InvalidInput(f"the workspace has {MAX_SILENCES} active silences, the most")
        return self.store.add_silence(scope, silence.to_dict(), silence.ends_ms)

    def silences(self, scope: Scope, active_only: bool = True) -> list[dict[str, Any]]:
        """Silences (active now, or all), each as its fields and its ``id``."""
        return self.store.silences(scope, now_ms() if active_only else None)

    def delete_silence(self, scope: Scope, silence_id: str) -> None:
        self.store.delete_silence(scope, silence_id)

    # -- a run's events ---------------------------------------------------------------------

    def evaluate(
        self, scope: Scope, monitor: Monitor, windows: Sequence[WindowResult], now: int
    ) -> tuple[list[tuple[AlertRule, AlertState]], dict[str, AlertState], list[Any]]:
        """The rules, their new states, and ``(event, silenced)`` for each event the
        windows raised (named by the workspace, for the operator's channels)."""
        rules = self.rules(scope, monitor.name)
        workspace = self.store.workspace_name(scope)
        states: dict[str, AlertState] = {}
        events: list[AlertEvent] = []
        for rule, state in rules:
            for window in windows:
                value = window.figure(rule.figure)
                state, event = step(rule, state, value, window.end_ms, at_ms=now)
                if event is not None:
                    events.append(replace(event, workspace=workspace))
            states[rule.name] = state
        active = [
            Silence.from_dict({k: v for k, v in s.items() if k != "id"})
            for s in self.store.silences(scope, now)
        ]
        return rules, states, [(e, silenced(e, active, now)) for e in events]

    def send(
        self,
        scope: Scope,
        rules: Sequence[tuple[AlertRule, AlertState]],
        events: Sequence[tuple[str, AlertEvent, bool]],
    ) -> None:
        """Deliver each stored, unsilenced event to its rule's channels and record how."""
        channels = {c["name"]: c for c in self.store.channels(scope)}
        operators = self._operators(scope)
        for event_id, event, quiet in events:
            if quiet:
                continue
            rule = next(r for r, _ in rules if r.name == event.rule)
            done = [self._send(channels, operators, c, event) for c in rule.channels]
            self.store.set_deliveries(event_id, [d.to_dict() for d in done])

    def _send(
        self, channels: Mapping[str, Any], operators: set[str], name: str, event: AlertEvent
    ) -> Delivery:
        if name in operators:
            channel = self.operator[name].channel
        elif name in channels:
            channel = channel_from_dict(channels[name])
        else:
            return Delivery(name, False, 0, f"no channel {name!r}", now_ms())
        return self.deliver(channel, event, allow_private=self.allow_private)

    def _operators(self, scope: Scope) -> set[str]:
        """The operator's channels this workspace may use."""
        if not self.operator:
            return set()
        workspace = self.store.workspace_name(scope)
        return {name for name, found in self.operator.items() if found.serves(workspace)}


__all__ = ["MAX_CHANNELS", "MAX_RULES", "MAX_SILENCES", "Alerting"]
