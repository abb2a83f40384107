"""``gnomon monitor``: create, run, show (with its chart), report, alerts, channels and
silences from the shell, and the errors it names."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.cli import fails, ok, ok_json
from tests.fixtures.monitoring import HOUR, Served, frame


def test_a_monitor_from_the_shell(served: Served, tmp_path: Path) -> None:
    served.write(frame(200, seed=1), served.base_ms, "calm")
    served.write(frame(200, seed=2, shift=2.0), served.base_ms + HOUR, "shifted")
    assert "Created monitor web-watch" in ok(
        "monitor",
        "create",
        "web-watch",
        "--deployment",
        "web",
        "--rows",
        "200",
        "--segment",
        "country",
        "--drift",
        '{"alpha": 0.01}',
    )
    assert "Channel oncall (log) saved" in ok("monitor", "channel", "add", "oncall", "--log")
    ok(
        "monitor",
        "alert",
        "add",
        "web-watch",
        "x-moved",
        "--when",
        "drift.detected.x >= 1",
        "--channel",
        "oncall",
    )
    assert "Evaluated 2 windows" in ok("monitor", "run", "web-watch")
    shown = ok("monitor", "show", "web-watch")
    assert "drift.share over the last 2 windows" in shown and "┤" in shown  # the chart
    assert "x" in shown and "drift" in shown
    listed = ok_json("monitor", "list")
    assert [m["name"] for m in listed] == ["web-watch"]
    detail = ok_json("monitor", "show", "web-watch")
    assert [w["figures"]["drift.detected.x"] for w in detail["windows"]] == [0.0, 1.0]
    events = ok_json("monitor", "alert", "events", "web-watch")
    assert [e["event"]["kind"] for e in events] == ["fired"]
    assert events[0]["deliveries"][0]["ok"] is True
    assert ok_json("monitor", "alert", "list", "web-watch")[0]["state"]["status"] == "firing"
    report = tmp_path / "r.html"
    ok("monitor", "report", "web-watch", "--out", str(report))
    assert "<svg" in report.read_text()
    silenced = ok("monitor", "silence", "add", "--monitor", "web-watch", "--for", "1h")
    silence_id = silenced.split()[1]
    assert [s["id"] for s in ok_json("monitor", "silence", "list")] == [silence_id]
    ok("monitor", "silence", "delete", silence_id)
    assert ok_json("monitor", "silence", "list") == []
    ok("monitor", "alert", "delete", "web-watch", "x-moved")
    ok("monitor", "channel", "delete", "oncall")
    ok("monitor", "delete", "web-watch")
    assert ok_json("monitor", "list") == []


def test_bad_input_is_one_line_naming_the_problem(served: Served) -> None:
    assert "nope" in fails("monitor", "create", "m", "--deployment", "nope")
    assert "window" in fails("monitor", "create", "m", "--deployment", "web", "--window", "5s")
    assert "--window or --rows" in fails(
        "monitor", "create", "m", "--deployment", "web", "--window", "1h", "--rows", "50"
    )
    assert "JSON object" in fails("monitor", "create", "m", "--deployment", "web", "--drift", "[")
    assert "no monitor 'm'" in fails("monitor", "run", "m")
    ok("monitor", "create", "m", "--deployment", "web")
    assert "FIGURE OP NUMBER" in fails("monitor", "alert", "add", "m", "r", "--when", "x is big")
    assert "no alert channel 'pager'" in fails(
        "monitor", "alert", "add", "m", "r", "--when", "drift.share > 0.5", "--channel", "pager"
    )
    assert "exactly one of" in fails("monitor", "channel", "add", "c")
    assert "http" in fails("monitor", "channel", "add", "c", "--webhook", "ftp://x")
