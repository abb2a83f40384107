"""Monitoring wire models: defined once, used by the server routes and the HTTP client.

Specs, rules, channels and silences travel as the JSON their entities write (``to_dict``)
and are checked by those entities' ``from_dict``, so a bad value gets the same message
embedded and remote.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from gnomon.monitoring.entities import Figure, Monitor, MonitorRun, MonitorSpec, WindowResult
from gnomon.wire import Text, Wire, WireFloat, WireInt, WireJson, WireMillis


class CreateMonitor(Wire):
    name: Text
    spec: WireJson


class MonitorOut(Wire):
    id: str
    workspace_id: str
    name: str
    spec: dict[str, Any]
    created_time: int
    created_by: str
    updated_time: int
    watermark_ms: int | None = None
    last_run_ms: int | None = None

    @classmethod
    def of(cls, monitor: Monitor) -> MonitorOut:
        return cls(
            id=monitor.id,
            workspace_id=monitor.workspace_id,
            name=monitor.name,
            spec=monitor.spec.to_dict(),
            created_time=monitor.created_time,
            created_by=monitor.created_by,
            updated_time=monitor.updated_time,
            watermark_ms=monitor.watermark_ms,
            last_run_ms=monitor.last_run_ms,
        )

    def entity(self) -> Monitor:
        return Monitor(
            id=self.id,
            workspace_id=self.workspace_id,
            name=self.name,
            spec=MonitorSpec.from_dict(self.spec),
            created_time=self.created_time,
            created_by=self.created_by,
            updated_time=self.updated_time,
            watermark_ms=self.watermark_ms,
            last_run_ms=self.last_run_ms,
        )


class RunMonitor(Wire):
    until_ms: WireMillis | None = None


class WindowOut(Wire):
    monitor: str
    start_ms: int
    end_ms: int
    rows: int
    figures: list[list[Any]]
    details: dict[str, Any]
    computed_ms: int

    @classmethod
    def of(cls, window: WindowResult) -> WindowOut:
        return cls(
            monitor=window.monitor,
            start_ms=window.start_ms,
            end_ms=window.end_ms,
            rows=window.rows,
            figures=[f.to_list() for f in window.figures],
            details=dict(window.details),
            computed_ms=window.computed_ms,
        )

    def entity(self) -> WindowResult:
        return WindowResult(
            self.monitor,
            self.start_ms,
            self.end_ms,
            self.rows,
            tuple(Figure.from_list(f) for f in self.figures),
            self.details,
            self.computed_ms,
        )


class MonitorRunOut(Wire):
    monitor: str
    windows: list[WindowOut]
    watermark_ms: int | None
    skipped: str | None = None

    @classmethod
    def of(cls, run: MonitorRun) -> MonitorRunOut:
        return cls(
            monitor=run.monitor,
            windows=[WindowOut.of(w) for w in run.windows],
            watermark_ms=run.watermark_ms,
            skipped=run.skipped,
        )

    def entity(self) -> MonitorRun:
        windows = tuple(w.entity() for w in self.windows)
        return MonitorRun(self.monitor, windows, self.watermark_ms, self.skipped)


class RuleOut(Wire):
    rule: dict[str, Any]
    state: dict[str, Any]


class SilenceCreated(Wire):
    id: str


class RuleBody(Wire):
    figure: Text
    op: Text
    threshold: WireFloat
    for_windows: WireInt = 1
    channels: list[Text] = Field(default_factory=list)
    severity: Text = "warning"


class ChannelBody(Wire):
    spec: WireJson


class SilenceBody(Wire):
    monitor: Text = "*"
    rule: Text = "*"
    starts_ms: WireMillis | None = None
    ends_ms: WireMillis
    comment: Text = ""


__all__ = [
    "ChannelBody",
    "CreateMonitor",
    "MonitorOut",
    "MonitorRunOut",
    "RuleBody",
    "RuleOut",
    "RunMonitor",
    "SilenceBody",
    "SilenceCreated",
    "WindowOut",
]
