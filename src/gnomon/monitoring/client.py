"""MonitorClient: ``client.monitors`` embedded, the service bound to the client's scope."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gnomon._types import Scope
from gnomon.monitoring.alert_rules import AlertRule, AlertState, Silence
from gnomon.monitoring.channel_specs import Channel
from gnomon.monitoring.entities import Monitor, MonitorRun, MonitorSpec, WindowResult
from gnomon.monitoring.service import MonitorService
from gnomon.progress import ProgressCallback


class MonitorClient:
    def __init__(self, service: MonitorService, scope: Scope) -> None:
        self.service = service
        self.scope = scope

    def create(self, name: str, spec: MonitorSpec) -> Monitor:
        return self.service.create(self.scope, name, spec)

    def get(self, name: str) -> Monitor:
        return self.service.get(self.scope, name)

    def delete(self, name: str) -> None:
        self.service.delete(self.scope, name)

    def run(
        self,
        name: str,
        *,
        until_ms: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> MonitorRun:
        return self.service.run(self.scope, name, until_ms=until_ms, on_progress=on_progress)

    def results(
        self, name: str, *, since_ms: int | None = None, limit: int = 1000
    ) -> list[WindowResult]:
        return self.service.results(self.scope, name, since_ms, limit)

    def report_html(self, name: str, *, limit: int = 200) -> str:
        from gnomon.monitoring.report_html import report_html

        return report_html(self.get(name), self.results(name, limit=limit))

    def set_rule(self, rule: AlertRule) -> AlertRule:
        return self.service.set_rule(self.scope, rule)

    def rules(self, monitor: str) -> list[tuple[AlertRule, AlertState]]:
        return self.service.rules(self.scope, monitor)

    def delete_rule(self, monitor: str, name: str) -> None:
        self.service.delete_rule(self.scope, monitor, name)

    def events(self, monitor: str, *, limit: int = 100) -> list[dict[str, Any]]:
        return self.service.events(self.scope, monitor, limit)

    def set_channel(self, spec: Mapping[str, Any]) -> Channel:
        return self.service.set_channel(self.scope, spec)

    def channels(self) -> Sequence[Channel]:
        return self.service.channels(self.scope)

    def delete_channel(self, name: str) -> None:
        self.service.delete_channel(self.scope, name)

    def silence(self, silence: Silence) -> str:
        return self.service.silence(self.scope, silence)

    def silences(self) -> list[dict[str, Any]]:
        return self.service.silences(self.scope)

    def delete_silence(self, silence_id: str) -> None:
        self.service.delete_silence(self.scope, silence_id)

    def list(self) -> list[Monitor]:
        return self.service.list(self.scope)
