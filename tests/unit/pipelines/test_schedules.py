"""Schedules: validation, the next tick, catch-up of missed ticks and pause/resume, with the
clock passed in (``now``) rather than waited for; ticks run real pipelines on a real store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

import gnomon
from gnomon._types import Scope
from gnomon.errors import AlreadyExists, InvalidInput, NotFound
from gnomon.pipelines import cron
from gnomon.pipelines.schedule_entities import NewSchedule, Schedule
from gnomon.pipelines.schedules import ScheduleService
from gnomon.pipelines.triggers import MAX_TICKS_PER_ROUND, alert_due, cron_due
from tests.fixtures.cli import fails, ok, ok_json
from tests.integration.pipelines import schedule_steps

MINUTE = 60_000
HOURLY = "0 * * * *"


def at(text: str) -> int:
    """An ISO time in UTC as milliseconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def service(gnomon_home: Path) -> ScheduleService:
    return gnomon.get_client()._services.get(ScheduleService)


@pytest.fixture
def scope(service: ScheduleService) -> Scope:
    return gnomon.get_client().scope


def logged(schedule_name: str, log: Path, **fields: object) -> NewSchedule:
    base = NewSchedule(
        schedule_name,
        "tests.integration.pipelines.schedule_steps:logged",
        {"log": str(log)},
        HOURLY,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cron": "61 * * * *"}, "invalid cron '61 * * * *': bad minute"),
        ({"cron": "0 3 * *"}, "4 field(s), a cron has five"),
        ({"cron": "@daily"}, "a cron has five"),
        ({"cron": "0 3 30 2 *"}, "bad day-of-month"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"catchup": "some"}, "catchup is one of latest, all, none"),
        ({"executor": "k8s"}, "unknown executor 'k8s'"),
        ({"pipeline": "no_colon"}, "pipeline is module:attribute"),
        ({"cron": None}, "a schedule needs a trigger"),
        ({"alert_rule": "x"}, "an alert rule is given with its monitor"),
        ({"name": " padded"}, "leading/trailing spaces"),
        ({"params": {"x": float("nan")}}, "params are not JSON: Out of range float"),
    ],
)
def test_creation_refuses_bad_input_naming_it(
    service: ScheduleService, scope: Scope, tmp_path: Path, fields: dict, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.create(scope, logged("s", tmp_path / "log", **fields))
    assert message in caught.value.message
    assert service.list(scope) == []


def test_unknown_monitor_or_rule_and_a_taken_name_are_refused(
    service: ScheduleService, scope: Scope, tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match="no monitor 'nowhere'"):
        service.create(scope, logged("s", tmp_path / "log", monitor="nowhere"))
    service.create(scope, logged("s", tmp_path / "log"))
    with pytest.raises(AlreadyExists, match="schedule 's' already exists"):
        service.create(scope, logged("s", tmp_path / "log"))


# -- the next tick ----------------------------------------------------------------------------


def test_the_first_tick_is_the_next_cron_time_in_the_schedules_time_zone(
    service: ScheduleService, scope: Scope, tmp_path: Path
) -> None:
    # 03:00 in Paris is 02:00 UTC in winter, 01:00 UTC once summer time began (29 March).
    winter = service.create(
        scope,
        logged("w", tmp_path / "log", cron="0 3 * * *", timezone="Europe/Paris"),
        now=at("2026-01-10T12:00:00"),
    )
    assert winter.next_ms == at("2026-01-11T02:00:00")
    summer = service.create(
        scope,
        logged("s", tmp_path / "log", cron="0 3 * * *", timezone="Europe/Paris"),
        now=at("2026-03-28T12:00:00"),
    )
    assert summer.next_ms == at("2026-03-29T01:00:00")
    # A time the change skips (02:30 on 29 March) runs at the first minute after it.
    skipped = cron.ticks_between(
        "30 2 * * *", "Europe/Paris", at("2026-03-28T12:00:00"), at("2026-03-30T12:00:00"), 5
    )
    assert skipped == [at("2026-03-29T01:00:00"), at("2026-03-30T00:30:00")]


def test_a_tick_at_exactly_now_is_due_and_one_just_after_is_not(
    service: ScheduleService, scope: Scope, tmp_path: Path
) -> None:
    created = service.create(scope, logged("s", tmp_path / "log"), now=at("2026-01-01T09:10:00"))
    assert created.next_ms == at("2026-01-01T10:00:00")
    assert service.run_due(now=at("2026-01-01T09:59:59")) == []
    done = service.run_due(now=at("2026-01-01T10:00:00"))
    assert [(t.tick, t.status) for t in done] == [
        (f"cron:{at('2026-01-01T10:00:00')}", "succeeded")
    ]
    assert service.get(scope, "s").next_ms == at("2026-01-01T11:00:00")


# -- catch-up, computed -----------------------------------------------------------------------


def schedule(catchup: str, next_ms: int, expr: str = HOURLY) -> Schedule:
    return Schedule(
        "id", "s", "m:p", {}, expr, "UTC", None, None, None, catchup, "local", False,  # type: ignore[arg-type]
        next_ms, None, None, "me", 0,
    )  # fmt: skip


def test_catchup_latest_runs_only_the_most_recent_missed_tick() -> None:
    due = list(
        cron_due(schedule("latest", at("2026-01-01T01:00:00")), at("2026-01-01T05:30:00"), MINUTE)
    )
    assert [(d.tick, d.skipped is None) for d in due] == [
        (f"cron:{at('2026-01-01T04:00:00')}", False),
        (f"cron:{at('2026-01-01T05:00:00')}", True),
    ]
    assert "4 tick(s)" in (due[0].skipped or "") and "catchup=latest" in (due[0].skipped or "")
    assert {d.moved_to for d in due} == {at("2026-01-01T06:00:00")}


def test_catchup_all_runs_each_missed_tick_oldest_first_bounded_per_round() -> None:
    first = at("2026-01-01T00:00:00")
    due = list(cron_due(schedule("all", first, "* * * * *"), first + 500 * MINUTE, MINUTE))
    assert len(due) == MAX_TICKS_PER_ROUND
    assert [d.tick for d in due[:3]] == [f"cron:{first + i * MINUTE}" for i in range(3)]
    assert due[-1].moved_to == first + MAX_TICKS_PER_ROUND * MINUTE  # the rest: next round
    assert all(d.skipped is None for d in due)


def test_catchup_none_skips_late_ticks_and_runs_one_on_time() -> None:
    late = list(
        cron_due(schedule("none", at("2026-01-01T01:00:00")), at("2026-01-01T05:30:00"), MINUTE)
    )
    assert [d.tick for d in late] == [f"cron:{at('2026-01-01T05:00:00')}"]
    assert "5 tick(s)" in (late[0].skipped or "") and "the next one will run" in (
        late[0].skipped or ""
    )
    on_time = list(
        cron_due(schedule("none", at("2026-01-01T05:00:00")), at("2026-01-01T05:00:20"), MINUTE)
    )
    assert [(d.tick, d.skipped) for d in on_time] == [(f"cron:{at('2026-01-01T05:00:00')}", None)]


def test_nothing_is_due_before_the_next_tick() -> None:
    for catchup in ("latest", "all", "none"):
        assert (
            list(
                cron_due(
                    schedule(catchup, at("2026-01-01T06:00:00")), at("2026-01-01T05:59:00"), MINUTE
                )
            )
            == []
        )


def test_alert_events_tick_once_each_and_the_cursor_never_sticks() -> None:
    events = [(f"e{i}", {"at_ms": 1000 + i, "rule": "x"}) for i in range(3)]
    due = list(alert_due(events, taken={"alert:e0"}))
    assert [(d.tick, d.params["alert"]["id"]) for d in due if d.claim] == [
        ("alert:e1", "e1"),
        ("alert:e2", "e2"),
    ]
    assert [(d.claim, d.moved_to) for d in due][-1] == (False, 1002)  # stays on the newest
    # A full page of one instant, all ticked: the cursor moves past it.
    same = [(f"e{i}", {"at_ms": 5000}) for i in range(MAX_TICKS_PER_ROUND)]
    [only] = alert_due(same, taken={f"alert:{event_id}" for event_id, _ in same})
    assert (only.claim, only.moved_to) == (False, 5001)
    assert list(alert_due([], set())) == []


# -- catch-up, run ----------------------------------------------------------------------------


def test_catchup_all_runs_each_missed_tick_once(
    service: ScheduleService, scope: Scope, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    service.create(scope, logged("s", log, catchup="all"), now=at("2026-01-01T00:30:00"))
    done = service.run_due(now=at("2026-01-01T03:10:00"))
    ticks = [f"cron:{at(f'2026-01-01T0{h}:00:00')}" for h in (1, 2, 3)]
    assert [(t.tick, t.status) for t in done] == [(tick, "succeeded") for tick in ticks]
    assert len(schedule_steps.lines(str(log))) == 3
    assert service.run_due(now=at("2026-01-01T03:10:00")) == []  # nothing twice
    runs = gnomon.get_client().pipelines.list_runs("logged")
    assert sorted(r.id for r in runs) == sorted(t.pipeline_run_id or "" for t in done)
    assert {r.trigger for r in runs} == {"schedule:s"}
    history = service.history(scope, "s")
    assert {(t.tick, t.status) for t in history} == {(tick, "succeeded") for tick in ticks}


def test_catchup_latest_records_what_it_skipped(
    service: ScheduleService, scope: Scope, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    service.create(
        scope, logged("s", log, params={"log": str(log), "n": 7}), now=at("2026-01-01T00:30:00")
    )
    done = service.run_due(now=at("2026-01-01T04:10:00"))
    assert [(t.tick, t.status) for t in done] == [
        (f"cron:{at('2026-01-01T03:00:00')}", "skipped"),
        (f"cron:{at('2026-01-01T04:00:00')}", "succeeded"),
    ]
    assert done[0].message == (
        "3 tick(s) missed while no worker ran, 2026-01-01 01:00 UTC to 2026-01-01 03:00 UTC: "
        "skipped (catchup=latest: only the latest runs)"
    )
    assert [line["n"] for line in schedule_steps.lines(str(log))] == [7]


def test_a_failing_pipeline_fails_its_tick_and_the_round_goes_on(
    service: ScheduleService, scope: Scope, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    broken = "tests.integration.pipelines.schedule_steps:broken"
    service.create(scope, logged("a-broken", log, pipeline=broken), now=at("2026-01-01T00:30:00"))
    service.create(
        scope, logged("b-missing", log, pipeline="no_such_module:p"), now=at("2026-01-01T00:30:00")
    )
    service.create(scope, logged("c-fine", log), now=at("2026-01-01T00:30:00"))
    done = {t.schedule: t for t in service.run_due(now=at("2026-01-01T01:00:00"))}
    assert done["a-broken"].status == "failed" and "boom" in (done["a-broken"].message or "")
    assert done["a-broken"].pipeline_run_id is not None  # the run that failed is named
    assert done["b-missing"].status == "failed"
    assert "cannot import 'no_such_module'" in (done["b-missing"].message or "")
    assert done["c-fine"].status == "succeeded"
    [recorded] = service.history(scope, "a-broken")
    assert (
        recorded.status == "failed" and recorded.pipeline_run_id == done["a-broken"].pipeline_run_id
    )


# -- pause and resume -------------------------------------------------------------------------


def test_a_paused_schedule_makes_no_ticks_and_resuming_does_not_replay_the_pause(
    service: ScheduleService, scope: Scope, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    service.create(scope, logged("s", log), now=at("2026-01-01T00:30:00"))
    assert service.pause(scope, "s").paused
    assert service.run_due(now=at("2026-01-01T05:10:00")) == []
    assert service.history(scope, "s") == []
    resumed = service.resume(scope, "s", now=at("2026-01-01T05:10:00"))
    assert not resumed.paused and resumed.next_ms == at("2026-01-01T06:00:00")
    assert service.run_due(now=at("2026-01-01T05:20:00")) == []
    assert [t.tick for t in service.run_due(now=at("2026-01-01T06:00:30"))] == [
        f"cron:{at('2026-01-01T06:00:00')}"
    ]


def test_resuming_with_catchup_all_replays_the_paused_period(
    service: ScheduleService, scope: Scope, tmp_path: Path
) -> None:
    service.create(
        scope, logged("s", tmp_path / "log", catchup="all"), now=at("2026-01-01T00:30:00")
    )
    service.pause(scope, "s")
    assert service.run_due(now=at("2026-01-01T02:10:00")) == []
    service.resume(scope, "s", now=at("2026-01-01T02:10:00"))
    done = service.run_due(now=at("2026-01-01T02:10:00"))
    assert [t.tick for t in done] == [
        f"cron:{at('2026-01-01T01:00:00')}",
        f"cron:{at('2026-01-01T02:00:00')}",
    ]


def test_deleting_a_schedule_deletes_its_ticks_not_its_runs(
    service: ScheduleService, scope: Scope, tmp_path: Path
) -> None:
    service.create(scope, logged("s", tmp_path / "log"), now=at("2026-01-01T00:30:00"))
    [tick] = service.run_due(now=at("2026-01-01T01:00:00"))
    service.delete(scope, "s")
    with pytest.raises(NotFound, match="no schedule 's'"):
        service.history(scope, "s")
    assert gnomon.get_client().pipelines.get_run(tick.pipeline_run_id or "").status == "succeeded"
    service.create(scope, logged("s", tmp_path / "log"), now=at("2026-01-01T00:30:00"))
    assert service.history(scope, "s") == []


# -- the CLI ----------------------------------------------------------------------------------


def test_the_cli_creates_lists_pauses_resumes_shows_and_deletes(
    gnomon_home: Path, tmp_path: Path
) -> None:
    ref = "tests.integration.pipelines.schedule_steps:logged"
    log = f"log={tmp_path / 'log'}"
    created = ok_json(
        "schedule", "create", "nightly", "--pipeline", ref, "--cron", "0 3 * * *",
        "--timezone", "Europe/Paris", "-p", log, "-p", "n=4", "--catchup", "all",
    )  # fmt: skip
    assert created["params"] == {"log": str(tmp_path / "log"), "n": 4}  # n typed by its annotation
    assert created["triggers"] == ["cron 0 3 * * * (Europe/Paris)"]
    assert "nightly" in ok("schedule", "list")
    assert "At 03:00 every day" in ok("schedule", "show", "nightly")
    ok("schedule", "pause", "nightly")
    assert ok_json("schedule", "show", "nightly")["paused"] is True
    ok("schedule", "resume", "nightly")
    assert ok_json("schedule", "list")[0]["paused"] is False
    assert ok_json("schedule", "history", "nightly") == []
    ok("schedule", "delete", "nightly")
    assert ok_json("schedule", "list") == []


def test_the_cli_prints_one_error_line_for_bad_input(gnomon_home: Path, tmp_path: Path) -> None:
    ref = "tests.integration.pipelines.schedule_steps:logged"
    log = f"log={tmp_path / 'log'}"
    assert "bad hour" in fails(
        "schedule", "create", "s", "--pipeline", ref, "-p", log, "--cron", "0 25 * * *"
    )
    assert "unknown time zone" in fails(
        "schedule",
        "create",
        "s",
        "--pipeline",
        ref,
        "-p",
        log,
        "--cron",
        "0 3 * * *",
        "--timezone",
        "Nowhere",
    )
    assert "needs parameter 'log'" in fails(
        "schedule", "create", "s", "--pipeline", ref, "--cron", "0 3 * * *"
    )
    assert "has no parameter 'epochs'" in fails(
        "schedule",
        "create",
        "s",
        "--pipeline",
        ref,
        "-p",
        log,
        "-p",
        "epochs=3",
        "--cron",
        "0 3 * * *",
    )
    assert "--catchup is one of" in fails(
        "schedule", "create", "s", "--pipeline", ref, "--catchup", "x"
    )
    assert "MONITOR/RULE" in fails("schedule", "create", "s", "--pipeline", ref, "--on-alert", "m/")
    assert "give --cron" in fails("schedule", "create", "s", "--pipeline", ref, "-p", log)
    # a dataset-triggered pipeline needs no -p dataset: each tick gives it
    data = "tests.integration.pipelines.schedule_steps:on_data"
    ok("schedule", "create", "d", "--pipeline", data, "-p", log, "--on-new-version", "train")
    assert "no schedule 'zz'" in fails("schedule", "show", "zz")
