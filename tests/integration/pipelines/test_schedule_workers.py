"""Schedules run by real processes against one real database: two schedulers racing for the
same ticks run each exactly once (SQLite and PostgreSQL), two ``gnomon worker`` processes
share a backlog, and a dataset's new version and a monitor's alert each start a pipeline once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import gnomon
from gnomon._types import now_ms
from gnomon.monitoring.alert_rules import AlertRule
from gnomon.monitoring.entities import MonitorSpec
from gnomon.pipelines.schedule_entities import NewSchedule
from gnomon.pipelines.schedules import ScheduleService
from tests.fixtures.monitoring import HOUR, Served, frame
from tests.fixtures.processes import GNOMON
from tests.integration.pipelines import schedule_steps

ROOT = str(Path(__file__).resolve().parents[3])
STEPS = "tests.integration.pipelines.schedule_steps"
MINUTE = 60_000


def _service() -> ScheduleService:
    return gnomon.get_client()._services.get(ScheduleService)


def _race(now: int, racers: int = 2) -> list[list[dict[str, Any]]]:
    """``racers`` processes each run one round at ``now``, starting together; what each
    claimed."""
    start_at = time.time() + 3  # past every racer's imports
    code = f"from {STEPS} import race; race({now}, {start_at})"
    env = {**os.environ, "PYTHONPATH": ROOT}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(racers)
    ]
    outputs = [proc.communicate(timeout=180)[0] for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), outputs
    return [json.loads(out.strip().splitlines()[-1]) for out in outputs]


def _once_each(claimed: list[list[dict[str, Any]]]) -> list[str]:
    """The ticks claimed, checked to be claimed by one racer each, all succeeded."""
    ticks = [t["tick"] for won in claimed for t in won]
    assert len(ticks) == len(set(ticks)), claimed
    assert {t["status"] for won in claimed for t in won} <= {"succeeded"}, claimed
    return sorted(ticks)


def _fires_once_per_tick(log: Path) -> None:
    service, scope = _service(), gnomon.get_client().scope
    now = now_ms()  # read once: two reads across a minute's edge gave a tick 1 ms early
    first = now - now % MINUTE - 8 * MINUTE
    new = NewSchedule("race", f"{STEPS}:logged", {"log": str(log)}, "* * * * *", catchup="all")
    service.create(scope, new, now=first - 1)
    at = first + 7 * MINUTE + 30_000  # eight ticks due: first .. first + 7 minutes
    try:
        ticks = _once_each(_race(at))
        expected = sorted(f"cron:{first + i * MINUTE}" for i in range(8))
        assert ticks == expected
        assert len(schedule_steps.lines(str(log))) == 8  # eight executions, not more
        history = service.history(scope, "race")
        assert sorted(t.tick for t in history) == expected
        assert {t.status for t in history} == {"succeeded"}
        runs = gnomon.get_client().pipelines.list_runs("logged")
        assert sorted(r.id for r in runs) == sorted(t.pipeline_run_id or "" for t in history)
        assert service.run_due(now=at) == []  # a later round at the same time: nothing twice
    finally:
        service.delete(scope, "race")  # the session's PostgreSQL is shared with later tests


def test_two_schedulers_fire_each_tick_once_on_sqlite(gnomon_home: Path, tmp_path: Path) -> None:
    _fires_once_per_tick(tmp_path / "log")


@pytest.mark.postgres
def test_two_schedulers_fire_each_tick_once_on_postgres(
    postgres_db: Any, gnomon_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fixtures.databases import fresh_workspace

    monkeypatch.setenv("GNOMON_URI", postgres_db.uri)
    monkeypatch.setenv("GNOMON_WORKSPACE", fresh_workspace(postgres_db).workspace)
    _fires_once_per_tick(tmp_path / "log")


def test_two_gnomon_workers_share_a_backlog(gnomon_home: Path, tmp_path: Path) -> None:
    log = tmp_path / "log"
    service, scope = _service(), gnomon.get_client().scope
    new = NewSchedule("backlog", f"{STEPS}:logged", {"log": str(log)}, "* * * * *", catchup="all")
    service.create(scope, new, now=now_ms() - 5 * MINUTE)  # five ticks missed at least
    env = {**os.environ, "PYTHONPATH": ROOT}
    workers = [
        subprocess.Popen(
            [GNOMON, "worker", "--once"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    said = [w.communicate(timeout=180)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers), said
    claimed = [line.split()[2].rstrip(":") for out in said for line in out.splitlines()]
    assert len(claimed) == len(set(claimed)) >= 5, said
    history = service.history(scope, "backlog")
    assert sorted(t.tick for t in history) == sorted(claimed)
    assert {t.status for t in history} == {"succeeded"}
    assert len(schedule_steps.lines(str(log))) == len(claimed)


def test_a_new_dataset_version_starts_the_pipeline_once(gnomon_home: Path, tmp_path: Path) -> None:
    log = tmp_path / "log"
    service, scope = _service(), gnomon.get_client().scope
    gnomon.log_dataset(pd.DataFrame({"x": [1]}), "train")
    params = {"log": str(log)}
    service.create(scope, NewSchedule("data", f"{STEPS}:on_data", params, dataset="train"))
    service.create(scope, NewSchedule("early", f"{STEPS}:on_data", params, dataset="later"))
    assert service.run_due() == []  # train@1 was there before the schedule
    gnomon.log_dataset(pd.DataFrame({"x": [2]}), "train")
    assert _once_each(_race(now_ms())) == ["dataset:2"]
    assert [line["dataset"] for line in schedule_steps.lines(str(log))] == ["train@2"]
    assert service.run_due() == []
    # Two versions since: one tick, for the newest.
    gnomon.log_dataset(pd.DataFrame({"x": [3]}), "train")
    gnomon.log_dataset(pd.DataFrame({"x": [4]}), "train")
    gnomon.log_dataset(pd.DataFrame({"y": [1]}), "later")  # created after its schedule: v1
    done = {t.schedule: t for t in service.run_due()}
    assert (done["data"].tick, done["data"].status) == ("dataset:4", "succeeded")
    assert (done["early"].tick, done["early"].status) == ("dataset:1", "succeeded")
    seen = sorted(line["dataset"] for line in schedule_steps.lines(str(log)))
    assert seen == ["later@1", "train@2", "train@4"]
    assert service.get(scope, "data").seen_version == 4


def test_a_monitors_alert_starts_the_pipeline_with_the_event(
    served: Served, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    served.write(frame(200, seed=1), served.base_ms, "calm")
    served.write(frame(200, seed=2, shift=2.0), served.base_ms + HOUR, "shifted")
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600, drift={"alpha": 0.01}))
    monitors.set_rule(AlertRule("x", "m", "drift.detected.x", ">=", 1))
    service, scope = _service(), served.client.scope
    params = {"log": str(log)}
    service.create(scope, NewSchedule("retrain", f"{STEPS}:on_alert", params, monitor="m"))
    other = NewSchedule("other-rule", f"{STEPS}:on_alert", params, monitor="m", alert_rule="y")
    monitors.set_rule(AlertRule("y", "m", "drift.share", ">", 2))  # a share is never above 1
    service.create(scope, other)
    assert service.run_due() == []  # no alert yet
    monitors.run("m", until_ms=served.base_ms + 2 * HOUR)
    assert [e["event"]["kind"] for e in monitors.events("m")] == ["fired"]
    [tick] = _once_each(_race(now_ms()))
    assert tick.startswith("alert:")
    [line] = schedule_steps.lines(str(log))
    assert line["alert"]["id"] == tick.removeprefix("alert:")
    assert (line["alert"]["rule"], line["alert"]["monitor"], line["alert"]["kind"]) == (
        "x",
        "m",
        "fired",
    )
    assert service.run_due() == []  # the same event never twice
    # Back to calm: the rule resolves, which starts nothing.
    served.write(frame(200, seed=3), served.base_ms + 2 * HOUR, "calm-again")
    monitors.run("m", until_ms=served.base_ms + 3 * HOUR)
    assert [e["event"]["kind"] for e in monitors.events("m")] == ["resolved", "fired"]
    assert service.run_due() == []
