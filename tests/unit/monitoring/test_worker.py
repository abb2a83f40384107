"""Scheduled runs and the run lease: two workers never evaluate the same window twice."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gnomon.errors import Conflict
from gnomon.monitoring.entities import MonitorSpec
from gnomon.monitoring.service import MonitorService
from tests.fixtures.monitoring import HOUR, Served, frame


def _service(served: Served) -> MonitorService:
    return served.client._services.get(MonitorService)


def test_a_monitor_leased_by_another_worker_is_skipped(served: Served) -> None:
    served.write(frame(50, seed=1), served.base_ms, "a")
    service = _service(served)
    served.client.monitors.create("m", MonitorSpec("web", window_s=3600))
    scope = served.client.scope
    assert service.store.lease(scope, "m", "other-worker", 60)
    skipped = service.run(scope, "m", until_ms=served.base_ms + HOUR)
    assert skipped.windows == () and "another worker" in (skipped.skipped or "")
    service.store.release(scope, "m", "other-worker")
    assert len(service.run(scope, "m", until_ms=served.base_ms + HOUR).windows) == 1


def test_results_are_refused_once_the_lease_is_lost(served: Served) -> None:
    service = _service(served)
    monitor = served.client.monitors.create("m", MonitorSpec("web", window_s=3600))
    scope = served.client.scope
    assert service.store.lease(scope, "m", "slow", 0)  # expires at once
    time.sleep(0.002)  # past its millisecond: a lease still ends *at* the clock's now
    assert service.store.lease(scope, "m", "fast", 60)
    with pytest.raises(Conflict, match="lease was lost"):
        service.store.save_run(scope, monitor, "slow", (), 123)
    assert served.client.monitors.get("m").watermark_ms is None


def test_only_due_scheduled_monitors_run(served: Served) -> None:
    served.write(frame(50, seed=1), served.base_ms, "a")
    monitors = served.client.monitors
    monitors.create("scheduled", MonitorSpec("web", window_s=3600, schedule_s=3600))
    monitors.create("on-demand", MonitorSpec("web", window_s=3600))
    service = _service(served)
    first = service.run_due()
    assert [r.monitor for r in first] == ["scheduled"] and first[0].windows
    assert service.run_due() == []  # ran a moment ago: not due for an hour
    assert monitors.results("on-demand") == []


def test_concurrent_runs_store_each_window_once(served: Served) -> None:
    for hour in range(3):
        served.write(frame(40, seed=hour), served.base_ms + hour * HOUR, f"h{hour}")
    served.client.monitors.create("m", MonitorSpec("web", window_s=3600))
    service, scope = _service(served), served.client.scope
    runs = []
    threads = [
        threading.Thread(target=lambda: runs.append(service.run(scope, "m"))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = served.client.monitors.results("m")
    assert [w.start_ms for w in stored] == sorted({w.start_ms for w in stored})
    assert sum(len(r.windows) for r in runs) == len(stored) >= 3


def test_two_worker_processes_share_the_schedule(served: Served, gnomon_home: Path) -> None:
    for hour in range(3):
        served.write(frame(40, seed=hour), served.base_ms + hour * HOUR, f"h{hour}")
    served.client.monitors.create("m", MonitorSpec("web", window_s=3600, schedule_s=60))
    command = [sys.executable, "-c", "from gnomon.cli.app import main; main()", "worker", "--once"]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    said = [w.communicate(timeout=120)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers), said
    stored = served.client.monitors.results("m")
    assert len(stored) == len({w.start_ms for w in stored}) >= 3


def test_the_api_server_runs_scheduled_monitors_in_a_thread(served: Served) -> None:
    import time

    from gnomon.server.cli import _run_monitors

    served.write(frame(50, seed=1), served.base_ms, "a")
    served.client.monitors.create("m", MonitorSpec("web", window_s=3600, schedule_s=3600))
    stop = _run_monitors(served.client._services)
    try:
        deadline = time.monotonic() + 30
        while not served.client.monitors.results("m") and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
    assert served.client.monitors.results("m")[0].rows == 50


def test_a_broken_operator_channels_file_stops_the_server_from_starting(
    gnomon_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fixtures.cli import fails

    broken = tmp_path / "channels.json"
    broken.write_text('{"retrain": "not a list"}')
    monkeypatch.setenv("GNOMON_ALERT_CHANNELS", str(broken))
    assert "retrain" in fails("server", "--no-auth", "--port", "1")
