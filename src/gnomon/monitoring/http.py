"""HttpMonitorClient: ``client.monitors`` over a gnomon server's REST API (the contract is
documented on :class:`gnomon.monitoring.api.MonitorsApi`).

The server's service raises the errors, which the transport turns back into the same classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gnomon.client.transport import Transport, body, segment
from gnomon.monitoring.alert_rules import AlertRule, AlertState, Silence
from gnomon.monitoring.channel_specs import Channel, channel_from_dict
from gnomon.monitoring.entities import Monitor, MonitorRun, MonitorSpec, WindowResult
from gnomon.monitoring.schemas import (
    ChannelBody,
    CreateMonitor,
    MonitorOut,
    MonitorRunOut,
    RuleBody,
    RuleOut,
    RunMonitor,
    SilenceBody,
    SilenceCreated,
    WindowOut,
)
from gnomon.progress import ProgressCallback


class HttpMonitorClient:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def create(self, name: str, spec: MonitorSpec) -> Monitor:
        new = body(CreateMonitor, name=name, spec=spec.to_dict())
        return self.transport.one("POST", "/monitors", MonitorOut, json=new).entity()

    def get(self, name: str) -> Monitor:
        return self.transport.one("GET", _path(name), MonitorOut).entity()

    def delete(self, name: str) -> None:
        self.transport.request("DELETE", _path(name))

    def run(
        self,
        name: str,
        *,
        until_ms: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> MonitorRun:
        sent = body(RunMonitor, until_ms=until_ms)
        answer = self.transport.one("POST", f"{_path(name)}/run", MonitorRunOut, json=sent)
        return answer.entity()

    def results(
        self, name: str, *, since_ms: int | None = None, limit: int = 1000
    ) -> list[WindowResult]:
        params: dict[str, Any] = {"limit": limit}
        if since_ms is not None:
            params["since_ms"] = since_ms
        found = self.transport.many("GET", f"{_path(name)}/results", WindowOut, params=params)
        return [w.entity() for w in found]

    def report_html(self, name: str, *, limit: int = 200) -> str:
        from gnomon.monitoring.report_html import report_html

        return report_html(self.get(name), self.results(name, limit=limit))

    def set_rule(self, rule: AlertRule) -> AlertRule:
        sent = body(
            RuleBody,
            figure=rule.figure,
            op=rule.op,
            threshold=rule.threshold,
            for_windows=rule.for_windows,
            channels=list(rule.channels),
            severity=rule.severity,
        )
        path = f"{_path(rule.monitor)}/rules/{segment(rule.name)}"
        answer = self.transport.one("PUT", path, RuleOut, json=sent)
        return AlertRule.from_dict(answer.rule)

    def rules(self, monitor: str) -> list[tuple[AlertRule, AlertState]]:
        found = self.transport.many("GET", f"{_path(monitor)}/rules", RuleOut)
        return [(AlertRule.from_dict(r.rule), AlertState.from_dict(r.state)) for r in found]

    def delete_rule(self, monitor: str, name: str) -> None:
        self.transport.request("DELETE", f"{_path(monitor)}/rules/{segment(name)}")

    def events(self, monitor: str, *, limit: int = 100) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.transport.request(
            "GET", f"{_path(monitor)}/events", params={"limit": limit}
        )
        return found

    def set_channel(self, spec: Mapping[str, Any]) -> Channel:
        channel = channel_from_dict(spec)  # refused here as the server would refuse it
        self.transport.request("PUT", "/alert-channels", json=body(ChannelBody, spec=dict(spec)))
        return channel

    def channels(self) -> Sequence[Channel]:
        found: list[dict[str, Any]] = self.transport.request("GET", "/alert-channels")
        return [channel_from_dict(c) for c in found]

    def delete_channel(self, name: str) -> None:
        self.transport.request("DELETE", f"/alert-channels/{segment(name)}")

    def silence(self, silence: Silence) -> str:
        sent = body(
            SilenceBody,
            monitor=silence.monitor,
            rule=silence.rule,
            starts_ms=silence.starts_ms,
            ends_ms=silence.ends_ms,
            comment=silence.comment,
        )
        return self.transport.one("POST", "/alert-silences", SilenceCreated, json=sent).id

    def silences(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.transport.request("GET", "/alert-silences")
        return found

    def delete_silence(self, silence_id: str) -> None:
        self.transport.request("DELETE", f"/alert-silences/{segment(silence_id)}")

    def list(self) -> list[Monitor]:
        return [m.entity() for m in self.transport.many("GET", "/monitors", MonitorOut)]


def _path(name: str) -> str:
    return f"/monitors/{segment(name)}"
