"""Monitors through a real server: created, run and read over HTTP, an alert delivered to
a real webhook receiver once, resolved, and refused where the server's network is private."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import gnomon
from gnomon.monitoring.alert_rules import AlertRule
from gnomon.monitoring.entities import MonitorSpec
from gnomon.monitoring.http import HttpMonitorClient
from tests.fixtures.monitoring import HOUR, Served, frame
from tests.fixtures.server import serve, server_settings


class Receiver:
    """A webhook receiver on 127.0.0.1 keeping every JSON body it was sent."""

    def __init__(self) -> None:
        bodies: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.bodies = bodies
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


def _remote(url: str, tmp_path: Path) -> HttpMonitorClient:
    monitors = gnomon.Client(settings=gnomon.Settings(uri=url, home=tmp_path / "client")).monitors
    assert isinstance(monitors, HttpMonitorClient)
    return monitors


def test_a_drift_alert_is_delivered_once_then_resolved(
    served: Served, gnomon_home: Path, tmp_path: Path, receiver: Receiver
) -> None:
    settings = server_settings(
        f"sqlite:///{gnomon_home / 'gnomon.db'}", gnomon_home, alert_private_webhooks=True
    )
    served.write(frame(300, seed=1), served.base_ms, "calm")
    served.write(frame(300, seed=2, shift=1.5), served.base_ms + HOUR, "shifted")
    with serve(settings, no_auth=True) as live:
        monitors = _remote(live.url, tmp_path)
        # alpha = 0.01: a calm window of 300 rows is then flagged once in a hundred, not twenty.
        spec = MonitorSpec("web", window_s=3600, segment="country", drift={"alpha": 0.01})
        monitors.create("web-drift", spec)
        monitors.set_channel({"kind": "webhook", "name": "ops", "url": receiver.url})
        monitors.set_rule(
            AlertRule("x-drift", "web-drift", "drift.detected.x", ">=", 1, channels=("ops",))
        )

        run = monitors.run("web-drift", until_ms=served.base_ms + 2 * HOUR)
        assert [w.figure("drift.detected.x") for w in run.windows] == [0.0, 1.0]
        assert [b["kind"] for b in receiver.bodies] == ["fired"]
        assert receiver.bodies[0]["rule"] == "x-drift" and receiver.bodies[0]["value"] == 1.0

        served.write(frame(300, seed=3, shift=1.5), served.base_ms + 2 * HOUR, "still")
        monitors.run("web-drift", until_ms=served.base_ms + 3 * HOUR)
        assert len(receiver.bodies) == 1  # still drifting: deduplicated
        ((_, state),) = monitors.rules("web-drift")
        assert state.status == "firing"

        served.write(frame(300, seed=4), served.base_ms + 3 * HOUR, "calm-again")
        monitors.run("web-drift", until_ms=served.base_ms + 4 * HOUR)
        assert [b["kind"] for b in receiver.bodies] == ["fired", "resolved"]
        assert receiver.bodies[0]["dedup_key"] == receiver.bodies[1]["dedup_key"]
        events = monitors.events("web-drift")
        assert [e["event"]["kind"] for e in events] == ["resolved", "fired"]
        assert all(e["deliveries"][0]["ok"] for e in events)
        assert [w.rows for w in monitors.results("web-drift")] == [300, 300, 300, 300]
        assert "<svg" in monitors.report_html("web-drift")


def test_a_server_refuses_to_deliver_into_its_own_network(
    served: Served, gnomon_home: Path, tmp_path: Path, receiver: Receiver
) -> None:
    settings = server_settings(f"sqlite:///{gnomon_home / 'gnomon.db'}", gnomon_home)
    served.write(frame(100, seed=2, shift=2.0), served.base_ms, "shifted")
    with serve(settings, no_auth=True) as live:
        monitors = _remote(live.url, tmp_path)
        monitors.create("m", MonitorSpec("web", window_s=3600))
        monitors.set_channel({"kind": "webhook", "name": "inside", "url": receiver.url})
        monitors.set_rule(AlertRule("r", "m", "drift.share", ">", 0, channels=("inside",)))
        monitors.run("m", until_ms=served.base_ms + HOUR)
    (event,) = monitors_events(gnomon_home)
    assert receiver.bodies == []
    assert not event["deliveries"][0]["ok"]


def monitors_events(home: Path) -> list[dict[str, Any]]:
    return gnomon.get_client().monitors.events("m")
