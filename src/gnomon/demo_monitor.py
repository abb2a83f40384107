"""The demo's monitoring step: calm, then drifted traffic to the deployment with its ground
truth; a monitor flags the drifted features and the tumour-size band the model does worst
on, an alert reaches a local webhook, and an HTML report shows it all.

The drift is a change of population, not a planted error: the drifted traffic is the
held-out tumours with the largest radii, so every request still meets the contract.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import gnomon

MONITOR = "demo-drift"
CHANNEL = "demo-webhook"
RULE = "drift-share"
WINDOW_ROWS = 100
SEGMENT = "mean radius"  # numeric: scored in quartile bands of the training data
DRIFT_SHARE_ALERT = 0.3


@dataclass(frozen=True, slots=True)
class MonitorDemo:
    monitor: str
    windows: list[dict[str, Any]]  # per window: rows, drift share, drifted columns, accuracy
    drifted_columns: list[str]  # of the last window
    segments: dict[str, float | None]  # band -> accuracy, in the last window
    worst_segment: str | None
    alerts: list[dict[str, Any]]  # what the webhook received
    report_path: str


def send(http: Any, url: str, rows: Any, truth: Any) -> dict[str, Any]:
    """One request per row; the request id of each answer → its row's ground truth. A row
    the contract refuses (a held-out tumour beyond the training data's range) gets no
    answer, so no outcome; the monitor counts it among the rejected."""
    records = rows.to_dict(orient="records")
    outcomes = {}
    for record, label in zip(records, truth.tolist(), strict=True):
        answer = http.post(f"{url}/predict", json={"records": [record]})
        if answer.status_code == 200:
            outcomes[answer.json()["request_id"]] = int(label)
    return outcomes


def watch(deployment: str, outcomes: dict[str, Any], start_ms: int) -> MonitorDemo:
    """Log ``outcomes``, create the monitor (a webhook alert on drift share) and run it."""
    from gnomon.errors import NotFound
    from gnomon.monitoring.alert_rules import AlertRule
    from gnomon.monitoring.entities import MonitorSpec

    client = gnomon.get_client()
    client.deployments.log_outcomes(deployment, outcomes)
    receiver = _Receiver()
    monitors = client.monitors
    with contextlib.suppress(NotFound):
        monitors.delete(MONITOR)  # an earlier demo's
    spec = MonitorSpec(
        deployment,
        window_s=None,
        window_rows=WINDOW_ROWS,
        segment=SEGMENT,
        task="classification",
        start_ms=start_ms,
        description="gnomon demo: drifted traffic",
    )
    monitors.create(MONITOR, spec)
    monitors.set_channel({"kind": "webhook", "name": CHANNEL, "url": receiver.url})
    rule = AlertRule(RULE, MONITOR, "drift.share", ">", DRIFT_SHARE_ALERT, channels=(CHANNEL,))
    monitors.set_rule(rule)
    try:
        run = monitors.run(MONITOR)
    finally:
        receiver.close()
    report = Path(client.settings.home) / "demo" / "monitor.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(monitors.report_html(MONITOR), encoding="utf-8")
    windows = [_summary(w) for w in run.windows]
    last = run.windows[-1] if run.windows else None
    segments = _segments(last)
    scored = {band: acc for band, acc in segments.items() if acc is not None}
    return MonitorDemo(
        monitor=MONITOR,
        windows=windows,
        drifted_columns=list((last.details.get("drift") or {}).get("drifted", [])) if last else [],
        segments=segments,
        worst_segment=min(scored, key=lambda band: scored[band]) if scored else None,
        alerts=receiver.bodies,
        report_path=str(report),
    )


def _summary(window: Any) -> dict[str, Any]:
    drift = window.details.get("drift") or {}
    return {
        "rows": window.rows,
        "drift_share": window.figure("drift.share"),
        "drifted": len(drift.get("drifted", [])),
        "accuracy": window.figure("performance.accuracy"),
    }


def _segments(window: Any) -> dict[str, float | None]:
    if window is None:
        return {}
    found = (window.details.get("performance") or {}).get("segments") or {}
    return {band: value["metrics"].get("accuracy") for band, value in found.items()}


class _Receiver:
    """A webhook receiver on 127.0.0.1, standing in for an on-call tool."""

    def __init__(self) -> None:
        bodies: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = min(int(self.headers.get("Content-Length") or 0), 1_000_000)
                bodies.append(json.loads(self.rfile.read(size)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # quiet: the demo prints what matters
                pass

        self.bodies = bodies
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


__all__ = ["MonitorDemo", "send", "watch"]
