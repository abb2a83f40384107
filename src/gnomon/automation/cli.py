"""``gnomon policy ...``: retrain a model when its monitor alerts, new data lands or a cron
says so, gate the candidate, and roll it out as its risk calls for. ``gnomon worker`` runs
policies beside the metadata database; create, update and delete work there only (creating
imports the pipeline), the rest through a server too."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import typer

from gnomon.automation.api import PoliciesApi
from gnomon.automation.client import PolicyClient
from gnomon.automation.entities import Firing
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
    to_jsonable,
)
from gnomon.errors import InvalidInput

policy_app = typer.Typer(
    help="Policies: on a drift alert, new data or a cron, retrain; gate the candidate against "
    "the champion; roll it out as its risk calls for (gnomon worker runs them)."
)

Name = Annotated[str, typer.Argument(help="The policy's name.", show_default=False)]
File = Annotated[
    Path,
    typer.Argument(help="The policy as YAML.", exists=True, dir_okay=False, show_default=False),
]
_TRIGGERS = {"cron", "timezone", "dataset", "alert"}
MAX_FILE_BYTES = 1_000_000


@policy_app.command("create")
def create(ctx: typer.Context, file: File, output: OutputOption = OutputFormat.TABLE) -> None:
    """Create a policy from a YAML file: name, pipeline, params, triggers (alert, dataset,
    cron), model, deployment, gate, rollout, cooldown (see docs/closed-loop.md)."""
    policies = _defining(ctx)
    data = _read(file)
    name, pipeline = data.pop("name", None), data.pop("pipeline", None)
    params = data.pop("params", None) or {}
    triggers = data.pop("triggers", None) or {}
    if not isinstance(name, str) or not isinstance(pipeline, str):
        raise InvalidInput("a policy file names its name and its pipeline (module:attribute)")
    if not isinstance(triggers, dict) or set(triggers) - _TRIGGERS:
        raise InvalidInput(f"triggers are {', '.join(sorted(_TRIGGERS))}")
    monitor, rule = _alert(triggers.get("alert"))
    if not any(triggers.get(t) for t in ("cron", "dataset", "alert")):
        raise InvalidInput(
            "a policy needs a trigger: triggers: {alert: MONITOR, dataset: NAME, cron: ...}"
        )
    created = policies.create(
        name,
        pipeline,
        data,
        params=params,
        cron=triggers.get("cron"),
        timezone=triggers.get("timezone", "UTC"),
        dataset=triggers.get("dataset"),
        monitor=monitor,
        alert_rule=rule,
    )
    if output is OutputFormat.JSON:
        print_json(to_jsonable(created))
        return
    say(f"Created policy {created.name} (v1): {created.pipeline} on {', '.join(created.triggers)}")
    hint("gnomon worker runs it; gnomon policy firings NAME shows what it did")


@policy_app.command("update")
def update_policy(
    ctx: typer.Context,
    name: Name,
    file: File,
    note: Annotated[str, typer.Option(help="Why it changed, kept with the version.")] = "",
) -> None:
    """A new version of the policy's model, deployment, gate, rollout and cool-down (its
    name, pipeline and triggers stay: delete and create it to change those)."""
    policies = _defining(ctx)
    data = _read(file)
    for kept in ("name", "pipeline", "params", "triggers"):
        data.pop(kept, None)
    updated = policies.update(name, data, note)
    say(f"Policy {name} is now v{updated.version}")


@policy_app.command("list")
def list_policies(ctx: typer.Context, output: OutputOption = OutputFormat.TABLE) -> None:
    """The workspace's policies."""
    found = _policies(ctx).list()
    if output is OutputFormat.JSON:
        print_json(to_jsonable(found))
        return
    table = new_table(None, "name", "version", "model", "deployment", "triggers", "state")
    for p in found:
        table.add_row(
            printable(p.name), str(p.version), printable(p.spec.model),
            printable(p.spec.deployment), printable("; ".join(p.triggers)),
            "paused" if p.paused else "active",
        )  # fmt: skip
    console().print(table)


@policy_app.command("show")
def show(ctx: typer.Context, name: Name, output: OutputOption = OutputFormat.TABLE) -> None:
    """A policy: what fires it, what it retrains, how it gates and rolls out."""
    p = _policies(ctx).get(name)
    if output is OutputFormat.JSON:
        print_json(to_jsonable(p))
        return
    spec = p.spec
    strategies = ", ".join(f"{risk} → {s}" for risk, s in spec.rollout.strategies.items())
    rows = [
        ("name", f"{p.name} (v{p.version}, {'paused' if p.paused else 'active'})"),
        ("triggers", "; ".join(p.triggers) or MISSING),
        ("pipeline", p.pipeline),
        ("params", ", ".join(f"{k}={v!r}" for k, v in p.params.items()) or MISSING),
        ("model", f"{spec.model} (champion alias {spec.champion_alias})"),
        ("deployment", spec.deployment),
        ("cool-down", f"{spec.cooldown_s:g} s"),
        ("gate", f"holdout {spec.gate.holdout or MISSING}, target {spec.gate.target}, "
                 f"thresholds {spec.gate.thresholds or 'no worse than the champion'}"),
        ("rollout", f"{strategies}; canary {list(spec.rollout.canary_steps)} % held "
                    f"{spec.rollout.hold_s:g} s, {spec.rollout.min_requests} answers each"),
        ("approval", ", ".join(spec.rollout.approval) or "none"),
        ("created", f"{format_time(p.created_time)} by {p.created_by}"),
    ]  # fmt: skip
    table = new_table(None, "field", "value")
    for field, value in rows:
        table.add_row(field, printable(str(value)))
    console().print(table)


@policy_app.command("history")
def history(ctx: typer.Context, name: Name, output: OutputOption = OutputFormat.TABLE) -> None:
    """Every version of the policy's spec, oldest first."""
    versions = _policies(ctx).versions(name)
    if output is OutputFormat.JSON:
        print_json(to_jsonable(versions))
        return
    table = new_table(None, "version", "created", "by", "note")
    for v in versions:
        table.add_row(
            str(v.version),
            format_time(v.created_time),
            printable(v.created_by),
            printable(v.note or MISSING),
        )
    console().print(table)


@policy_app.command("firings")
def firings(
    ctx: typer.Context,
    name: Name,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="The newest N.")] = 20,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """What the policy did each time it fired: the retraining's run, the candidate, the gate,
    the risk and the rollout, newest first."""
    found = _policies(ctx).firings(name, limit)
    if output is OutputFormat.JSON:
        print_json(to_jsonable(found))
        return
    table = new_table(None, "started", "status", "candidate", "gate", "risk", "why")
    for f in found:
        table.add_row(
            format_time(f.started_ms), f.status, _candidate(f), _gate(f), _risk(f),
            printable((f.message or MISSING)[:300]),
        )  # fmt: skip
    console().print(table)


@policy_app.command("pause")
def pause(ctx: typer.Context, name: Name) -> None:
    """Stop firing until resumed."""
    _policies(ctx).pause(name)
    say(f"Paused policy {name}")


@policy_app.command("resume")
def resume(ctx: typer.Context, name: Name) -> None:
    """Fire again, from now on."""
    _policies(ctx).resume(name)
    say(f"Resumed policy {name}")


@policy_app.command("delete")
def delete(ctx: typer.Context, name: Name) -> None:
    """Delete a policy, its versions, firings and schedule (runs and rollouts stay)."""
    _defining(ctx).delete(name)
    say(f"Deleted policy {name}")


def _candidate(f: Firing) -> str:
    if f.candidate_version is None:
        return MISSING
    champion = f" vs v{f.champion_version}" if f.champion_version is not None else ""
    return f"{f.model}/{f.candidate_version}{champion}"


def _gate(f: Firing) -> str:
    if f.gate is None:
        return MISSING
    return "passed" if f.gate.get("passed") else "failed"


def _risk(f: Firing) -> str:
    return str(f.risk.get("level", MISSING)) if f.risk else MISSING


def _read(file: Path) -> dict[str, Any]:
    import yaml

    if file.stat().st_size > MAX_FILE_BYTES:
        raise InvalidInput(f"{file} is over {MAX_FILE_BYTES} bytes; a policy is a short file")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        # PyYAML's own message spans lines (a snippet, a caret): an error is one line.
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise InvalidInput(f"{file} is not YAML{where}: {problem[:300]}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{file} holds a mapping of fields, not {type(data).__name__}")
    return data


def _alert(value: object) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, str):
        raise InvalidInput(f"triggers.alert is MONITOR or MONITOR/RULE, not {value!r}")
    monitor, sep, rule = value.partition("/")
    if not monitor or (sep and not rule):
        raise InvalidInput(f"triggers.alert is MONITOR or MONITOR/RULE, not {value!r}")
    return monitor, rule or None


def _policies(ctx: typer.Context) -> PoliciesApi:
    found: Any = client_of(ctx).policies
    return cast(PoliciesApi, found)


def _defining(ctx: typer.Context) -> PolicyClient:
    beside_the_database(
        ctx, "policies are managed beside the metadata database, where gnomon worker runs them"
    )
    found: Any = client_of(ctx).policies
    assert isinstance(found, PolicyClient)
    return found


__all__ = ["policy_app"]
