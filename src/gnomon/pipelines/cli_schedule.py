"""``gnomon schedule ...``: start pipelines on a cron, a dataset's new version or a monitor's
alert. ``gnomon worker`` runs them; these commands work beside the metadata database."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import typer

from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    beside_the_database,
    client_of,
    console,
    format_time,
    hint,
    new_table,
    print_json,
    printable,
    say,
)
from gnomon.errors import InvalidInput
from gnomon.pipelines.cron import explain
from gnomon.pipelines.executors import EXECUTORS
from gnomon.pipelines.schedule_client import ScheduleClient
from gnomon.pipelines.schedule_entities import CATCHUPS, NewSchedule, Schedule, Tick
from gnomon.pipelines.schedule_runs import check_params

schedule_app = typer.Typer(
    help="Run pipelines on a cron, a dataset's new versions or a monitor's alerts "
    "(gnomon worker runs them)."
)

Name = Annotated[str, typer.Argument(help="The schedule's name.", show_default=False)]
Executor = Annotated[str, typer.Option(help=f"Where steps run: {', '.join(EXECUTORS)}.")]


@schedule_app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    pipeline: Annotated[
        str, typer.Option(help="The pipeline, as module:attribute.", show_default=False)
    ],
    cron: Annotated[
        str | None, typer.Option(help='Five cron fields: "0 3 * * *" is 03:00 every day.')
    ] = None,
    timezone: Annotated[str, typer.Option(help="The cron's IANA time zone.")] = "UTC",
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="A parameter, as key=value (repeat).")
    ] = None,
    catchup: Annotated[
        str, typer.Option(help="Missed cron ticks: latest runs the last, all each, none none.")
    ] = "latest",
    executor: Executor = "local",
    on_new_version: Annotated[
        str | None,
        typer.Option(help="A dataset: each new version starts it (with dataset=NAME@V)."),
    ] = None,
    on_alert: Annotated[
        str | None,
        typer.Option(help="MONITOR or MONITOR/RULE: each alert starts it (with alert=EVENT)."),
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Create a schedule; the pipeline must be importable here, as the worker imports it."""
    from gnomon.pipelines.loading import load_pipeline
    from gnomon.pipelines.params import parse_pairs

    if catchup not in CATCHUPS:
        raise InvalidInput(f"--catchup is one of {', '.join(CATCHUPS)}, not {catchup!r}")
    monitor, rule = _alert(on_alert)
    if cron is None and on_new_version is None and monitor is None:
        raise InvalidInput("give --cron, --on-new-version or --on-alert (or several)")
    new = NewSchedule(
        name=name,
        pipeline=pipeline,
        cron=cron,
        timezone=timezone,
        dataset=on_new_version,
        monitor=monitor,
        alert_rule=rule,
        catchup=catchup,  # type: ignore[arg-type]  # checked above
        executor=executor,
    )
    schedules = _schedules(ctx)
    spec = load_pipeline(pipeline).build()
    params = parse_pairs(spec, param or [])
    check_params(spec, params, new)
    created = schedules.create(replace(new, params=params))
    if output is OutputFormat.JSON:
        print_json(_dict(created))
        return
    say(f"Created schedule {created.name}: {created.pipeline} on {', '.join(created.triggers)}")
    if created.next_ms is not None:
        hint(f"first tick {format_time(created.next_ms)}; gnomon worker runs it")


@schedule_app.command("list")
def list_schedules(ctx: typer.Context, output: OutputOption = OutputFormat.TABLE) -> None:
    """The workspace's schedules."""
    found = _schedules(ctx).list()
    if output is OutputFormat.JSON:
        print_json([_dict(s) for s in found])
        return
    table = new_table(None, "name", "pipeline", "triggers", "catchup", "state", "next tick")
    for s in found:
        table.add_row(
            printable(s.name),
            printable(s.pipeline),
            printable("; ".join(s.triggers)),
            s.catchup,
            "paused" if s.paused else "active",
            format_time(s.next_ms) if s.next_ms and not s.paused else MISSING,
        )
    console().print(table)


@schedule_app.command("show")
def show(ctx: typer.Context, name: Name, output: OutputOption = OutputFormat.TABLE) -> None:
    """A schedule: its pipeline, parameters, triggers and where each stands."""
    s = _schedules(ctx).get(name)
    if output is OutputFormat.JSON:
        print_json(_dict(s))
        return
    table = new_table(None, "field", "value")
    rows: list[tuple[str, str]] = [
        ("name", s.name),
        ("pipeline", s.pipeline),
        ("params", ", ".join(f"{k}={v!r}" for k, v in s.params.items()) or MISSING),
        ("state", "paused" if s.paused else "active"),
        ("catchup", s.catchup),
        ("executor", s.executor),
    ]
    if s.cron is not None:
        rows.append(("cron", f"{s.cron} ({explain(s.cron)}, {s.timezone})"))
        rows.append(("next tick", format_time(s.next_ms)))
    if s.dataset is not None:
        rows.append(("on new version of", f"{s.dataset} (seen: v{s.seen_version or 0})"))
    if s.monitor is not None:
        rule = f"/{s.alert_rule}" if s.alert_rule else " (any rule)"
        rows.append(("on alert of", f"{s.monitor}{rule}"))
    rows.append(("created", f"{format_time(s.created_time)} by {s.created_by}"))
    for field, value in rows:
        table.add_row(field, printable(value))
    console().print(table)


@schedule_app.command("pause")
def pause(ctx: typer.Context, name: Name) -> None:
    """Stop making ticks until resumed."""
    _schedules(ctx).pause(name)
    say(f"Paused schedule {name}")


@schedule_app.command("resume")
def resume(ctx: typer.Context, name: Name) -> None:
    """Make ticks again, from now on (catchup=all: also those the pause held back)."""
    resumed = _schedules(ctx).resume(name)
    say(f"Resumed schedule {name}")
    if resumed.next_ms is not None:
        hint(f"next tick {format_time(resumed.next_ms)}")


@schedule_app.command("delete")
def delete(ctx: typer.Context, name: Name) -> None:
    """Delete a schedule and its history (its pipeline runs stay)."""
    _schedules(ctx).delete(name)
    say(f"Deleted schedule {name}")


@schedule_app.command("history")
def history(
    ctx: typer.Context,
    name: Name,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="The newest N ticks.")] = 20,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """The schedule's ticks, newest first: status, pipeline run and what happened."""
    ticks = _schedules(ctx).history(name, limit)
    if output is OutputFormat.JSON:
        print_json(ticks)
        return
    table = new_table(None, "tick", "status", "run", "message")
    for t in ticks:
        table.add_row(
            _tick_label(t),
            t.status,
            t.pipeline_run_id or MISSING,
            printable((t.message or MISSING)[:300]),
        )
    console().print(table)


def _schedules(ctx: typer.Context) -> ScheduleClient:
    beside_the_database(
        ctx, "schedules are managed beside the metadata database, where gnomon worker runs them"
    )
    found: Any = client_of(ctx).schedules
    assert isinstance(found, ScheduleClient)
    return found


def _alert(on_alert: str | None) -> tuple[str | None, str | None]:
    if on_alert is None:
        return None, None
    monitor, sep, rule = on_alert.partition("/")
    if not monitor or (sep and not rule):
        raise InvalidInput(f"--on-alert is MONITOR or MONITOR/RULE, not {on_alert!r}")
    return monitor, rule or None


def _tick_label(tick: Tick) -> str:
    """``cron 2026-01-01T03:00``; ``dataset 4, 2026-01-01T03:02`` (when it was claimed)."""
    kind, _, value = tick.tick.partition(":")
    if kind == "cron" and value.isdigit():
        return f"cron {format_time(int(value), compact=True)}"
    return f"{kind} {value}, {format_time(tick.created_ms, compact=True)}"


def _dict(s: Schedule) -> dict[str, Any]:
    return {
        **{name: getattr(s, name) for name in Schedule.__dataclass_fields__},
        "triggers": s.triggers,
    }


__all__ = ["schedule_app"]
