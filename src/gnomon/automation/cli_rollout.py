"""``gnomon rollout ...``: progressive rollouts of a candidate over a deployment — its
stages, every decision with its figures, and a person's approve or abort."""

from __future__ import annotations

from typing import Annotated, Any, cast

import typer

from gnomon.automation.api import RolloutsApi
from gnomon.automation.entities import Rollout
from gnomon.automation.spec import duration
from gnomon.cli.output import (
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
    state_of,
    to_jsonable,
)
from gnomon.errors import InvalidInput

rollout_app = typer.Typer(
    help="Progressive rollouts: start one, see its stages and decisions, approve or abort it "
    "(gnomon worker steps them on live evidence)."
)

Deployment = Annotated[str, typer.Argument(help="The deployment.", show_default=False)]
STEP_BESIDE = (
    "gnomon rollout step runs the controller beside the metadata database, where gnomon "
    "worker steps rollouts"
)


@rollout_app.command("start")
def start(
    ctx: typer.Context,
    deployment: Deployment,
    model: Annotated[
        str, typer.Argument(help="The candidate, as MODEL/VERSION.", show_default=False)
    ],
    risk: Annotated[
        str, typer.Option(help="low, medium, high, or auto: from the versions' lineage.")
    ] = "auto",
    strategy: Annotated[
        str | None, typer.Option(help="direct, canary or shadow (default: as the risk calls for).")
    ] = None,
    steps: Annotated[str, typer.Option(help="Canary percentages, e.g. 10,50.")] = "10,50",
    hold: Annotated[str, typer.Option(help="How long each canary step holds (90s, 5m).")] = "5m",
    min_requests: Annotated[
        int, typer.Option(min=1, max=10_000_000, help="Candidate answers a step needs.")
    ] = 100,
    alias: Annotated[
        str | None, typer.Option(help="Moved to the candidate when it is promoted.")
    ] = "production",
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Roll MODEL/VERSION out over DEPLOYMENT; the worker advances it stage by stage.
    Through a server, give --risk: reading it from the lineage may load the models."""
    name, _, version = model.rpartition("/")
    if not name or not (version.isascii() and version.isdigit()):
        raise InvalidInput(f"the candidate is MODEL/VERSION (churn/7), not {model!r}")
    started = _rollouts(ctx).start(
        deployment,
        name,
        int(version),
        risk=risk,
        strategy=strategy,
        canary_steps=tuple(_percent(w) for w in steps.split(",") if w.strip()),
        hold_s=duration("--hold", hold, low=1),
        min_requests=min_requests,
        alias=alias,
    )
    if output is OutputFormat.JSON:
        print_json(to_jsonable(started))
        return
    _show(started)
    hint("gnomon worker advances it; gnomon rollout status DEPLOYMENT shows where it stands")


@rollout_app.command("status")
def status(
    ctx: typer.Context, deployment: Deployment, output: OutputOption = OutputFormat.TABLE
) -> None:
    """The deployment's newest rollout: its stages, where it stands, every decision."""
    rollout = _rollouts(ctx).status(deployment)
    if output is OutputFormat.JSON:
        print_json(to_jsonable(rollout))
        return
    _show(rollout)


@rollout_app.command("list")
def list_rollouts(
    ctx: typer.Context,
    deployment: Annotated[str | None, typer.Option(help="Only this deployment's.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="The newest N.")] = 20,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Rollouts, newest first."""
    found = _rollouts(ctx).list(deployment, limit)
    if output is OutputFormat.JSON:
        print_json(to_jsonable(found))
        return
    table = new_table(None, "started", "deployment", "candidate", "risk", "strategy", "state")
    for r in found:
        table.add_row(
            format_time(r.created_ms), printable(r.deployment), printable(r.candidate),
            str(r.risk.get("level", "?")), r.plan.strategy, _state(r),
        )  # fmt: skip
    console().print(table)


@rollout_app.command("approve")
def approve(ctx: typer.Context, deployment: Deployment) -> None:
    """Let a rollout waiting for approval go on to live traffic."""
    rollout = _rollouts(ctx).approve(deployment)
    say(f"Approved: {rollout.candidate} on {deployment} is at {_state(rollout)}")


@rollout_app.command("abort")
def abort(
    ctx: typer.Context,
    deployment: Deployment,
    reason: Annotated[str, typer.Option(help="Why, kept with the decision.")] = "",
) -> None:
    """Stop the running rollout and take the candidate's arm away."""
    rollout = _rollouts(ctx).abort(deployment, reason)
    say(f"Aborted the rollout of {rollout.candidate} on {deployment}")


@rollout_app.command("step")
def step(ctx: typer.Context) -> None:
    """One round of the controller here and now (what gnomon worker does every few seconds)."""
    from gnomon.automation.rollouts import RolloutService
    from gnomon.automation.wiring import start_loop
    from gnomon.backends import open_services

    beside_the_database(ctx, STEP_BESIDE)
    services = open_services(state_of(ctx).settings)
    start_loop(services)
    for rollout in services.get(RolloutService).run_due():
        last = rollout.decisions[-1]
        say(f"{rollout.deployment}: {rollout.candidate} {_state(rollout)}: {last.reason[:300]}")


def _show(rollout: Rollout) -> None:
    risk = rollout.risk
    say(
        f"{rollout.candidate} on {rollout.deployment}: {risk.get('level', '?')} risk, "
        f"{rollout.plan.strategy} rollout, {_state(rollout)}"
    )
    for change in risk.get("changes", [])[:20]:
        say(f"  {change.get('level')}: {printable(str(change.get('reason')))[:300]}")
    stages = new_table("Stages", "#", "stage", "hold", "answers needed", "")
    for i, stage in enumerate(rollout.plan.stages):
        here = (
            "◀ now"
            if i == rollout.stage and not rollout.ended
            else ("✓" if i < rollout.stage else "")
        )
        hold = f"{stage.hold_s:g} s" if stage.hold_s else ""
        stages.add_row(str(i), stage.describe(), hold, str(stage.min_requests or ""), here)
    console().print(stages)
    table = new_table("Decisions", "when", "stage", "action", "why")
    for d in rollout.decisions:
        table.add_row(format_time(d.at_ms), str(d.stage), d.action, printable(d.reason[:400]))
    console().print(table)


def _state(rollout: Rollout) -> str:
    current = rollout.current
    if rollout.state == "running" and current is not None:
        return f"running ({current.describe()})"
    return rollout.state


def _percent(text: str) -> int:
    if not (text.strip().isascii() and text.strip().isdigit()) or not 1 <= int(text) <= 99:
        raise InvalidInput(f"--steps are percentages from 1 to 99, not {text!r}")
    return int(text)


def _rollouts(ctx: typer.Context) -> RolloutsApi:
    found: Any = client_of(ctx).rollouts
    return cast(RolloutsApi, found)


__all__ = ["rollout_app"]
