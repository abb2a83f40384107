"""Records on S3 are read the same way as local ones; an operator's command channel runs
when an alert fires (how an alert starts a job until pipelines exist)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import gnomon
from gnomon.monitoring.alert_rules import AlertRule
from gnomon.monitoring.entities import MonitorSpec
from tests.fixtures.monitoring import HOUR, Served, _served, frame


@pytest.mark.s3
def test_a_monitor_reads_records_on_s3(
    gnomon_home: Path, s3_server: str, s3_root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNOMON_ARTIFACTS", s3_root)
    monkeypatch.setenv("GNOMON_S3_ENDPOINT_URL", s3_server)
    served = _served()
    served.write(frame(120, seed=1), served.base_ms, "calm")
    served.write(frame(120, seed=2, shift=2.0), served.base_ms + HOUR, "shifted")
    monitors = gnomon.get_client().monitors
    monitors.create("m", MonitorSpec("web", window_s=3600))
    run = monitors.run("m", until_ms=served.base_ms + 2 * HOUR)
    assert [w.rows for w in run.windows] == [120, 120]
    assert [w.figure("drift.detected.x") for w in run.windows] == [0.0, 1.0]


def test_an_operator_command_runs_when_an_alert_fires(
    gnomon_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = tmp_path / "event.json"
    script = f"import sys, pathlib; pathlib.Path({str(received)!r}).write_text(sys.stdin.read())"
    commands = tmp_path / "commands.json"
    commands.write_text(json.dumps({"retrain": [sys.executable, "-c", script]}))
    monkeypatch.setenv("GNOMON_ALERT_CHANNELS", str(commands))
    served: Served = _served()
    served.write(frame(120, seed=2, shift=2.0), served.base_ms, "shifted")
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600))
    monitors.set_rule(AlertRule("moved", "m", "drift.share", ">", 0.3, channels=("retrain",)))
    monitors.run("m", until_ms=served.base_ms + HOUR)
    event = json.loads(received.read_text())
    assert (event["kind"], event["rule"], event["monitor"]) == ("fired", "moved", "m")
    (stored,) = monitors.events("m")
    assert stored["deliveries"] == [{**stored["deliveries"][0], "channel": "retrain", "ok": True}]
    with pytest.raises(gnomon.errors.InvalidInput, match="operator"):
        monitors.set_channel({"kind": "command", "name": "mine", "argv": ["/bin/true"]})
