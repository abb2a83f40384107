"""Monitors on PostgreSQL: windows, alerts, and the lease under concurrent runs."""

from __future__ import annotations

import threading

import pytest

from gnomon.monitoring.alert_rules import AlertRule
from gnomon.monitoring.entities import MonitorSpec
from gnomon.monitoring.service import MonitorService
from tests.fixtures.monitoring import HOUR, Served, frame

pytestmark = pytest.mark.postgres


def test_windows_alerts_and_concurrent_runs_on_postgres(served_postgres: Served) -> None:
    served = served_postgres
    served.write(frame(200, seed=1), served.base_ms, "calm")
    served.write(frame(200, seed=2, shift=2.0), served.base_ms + HOUR, "shifted")
    served.write(frame(200, seed=3), served.base_ms + 2 * HOUR, "calm-again")
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600, drift={"alpha": 0.01}))
    monitors.set_channel({"kind": "log", "name": "log"})
    monitors.set_rule(AlertRule("x", "m", "drift.detected.x", ">=", 1, channels=("log",)))
    service, scope = served.client._services.get(MonitorService), served.client.scope
    runs = []
    threads = [
        threading.Thread(
            target=lambda: runs.append(service.run(scope, "m", until_ms=served.base_ms + 3 * HOUR))
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = monitors.results("m")
    assert [w.start_ms for w in stored] == [served.base_ms + h * HOUR for h in range(3)]
    assert sum(len(r.windows) for r in runs) == 3
    assert [w.figure("drift.detected.x") for w in stored] == [0.0, 1.0, 0.0]
    kinds = [e["event"]["kind"] for e in monitors.events("m")]
    assert kinds == ["resolved", "fired"]
