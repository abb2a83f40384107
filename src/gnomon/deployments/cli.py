"""``gnomon deploy ...``: deployments from the shell, thin commands over ``client.deployments``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    client_of,
    console,
    format_time,
    new_table,
    print_json,
    say,
    warn,
)
from gnomon.deployments.entities import (
    Arm,
    ArmRole,
    Deployment,
    DeploymentEvent,
    Routing,
    ServingConfig,
)
from gnomon.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.deployments.api import DeploymentsApi

deploy_app = typer.Typer(
    help="Route a deployment's traffic between model versions: canary, A/B, shadow, rollback."
)

ModelOption = Annotated[
    str, typer.Option("--model", "-m", help="churn@production, churn/7, or churn (latest).")
]
NoteOption = Annotated[str, typer.Option("--note", help="Why: kept in the history.")]
PolicyOption = Annotated[
    str | None,
    typer.Option("--policy", help="What a request breaking the contract gets: reject|warn|clip."),
]
BatchingOption = Annotated[
    bool | None,
    typer.Option(
        "--batching/--no-batching",
        help="Force adaptive batching on or off (default: follow the model).",
        show_default=False,
    ),
]
MaxRowsOption = Annotated[
    int | None, typer.Option("--batch-max-rows", help="Most rows in one batched predict.")
]
WaitOption = Annotated[
    float | None,
    typer.Option("--batch-wait-ms", help="How long a request may wait for others to join."),
]


def _deployments(ctx: typer.Context) -> DeploymentsApi:
    return client_of(ctx).deployments


# -- create, list, delete --------------------------------------------------------------------


@deploy_app.command("create")
def create(
    ctx: typer.Context,
    name: str,
    model: ModelOption,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    policy: PolicyOption = None,
    batching: BatchingOption = None,
    batch_max_rows: MaxRowsOption = None,
    batch_wait_ms: WaitOption = None,
) -> None:
    """Create deployment NAME sending all traffic to --model."""
    config = _config(ServingConfig(), policy, batching, batch_max_rows, batch_wait_ms)
    created = _deployments(ctx).create(name, model, description=description, config=config)
    say(f"created deployment {created.name!r}: all traffic to {created.routing.primary.ref}")


@deploy_app.command("list")
def list_deployments(ctx: typer.Context, output: OutputOption = OutputFormat.TABLE) -> None:
    """List the workspace's deployments with their primary and candidate."""
    found = _deployments(ctx).list()
    if output is OutputFormat.JSON:
        print_json(found)
        return
    table = new_table(None, "name", "revision", "primary", "candidate", "shadows", "policy")
    table.add_column("updated")
    for d in found:
        candidate = d.routing.candidate
        table.add_row(
            d.name,
            str(d.revision),
            d.routing.primary.ref,
            _describe(candidate) if candidate else MISSING,
            ", ".join(a.ref for a in d.routing.shadows) or MISSING,
            d.config.policy,
            format_time(d.updated_time, compact=True),
        )
    console().print(table)


@deploy_app.command("delete")
def delete(
    ctx: typer.Context,
    name: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete deployment NAME and its history."""
    if not yes and not _confirmed(f"delete deployment {name!r} and its history?"):
        raise InvalidInput(f"deployment {name!r} not deleted: confirm, or pass --yes")
    _deployments(ctx).delete(name)
    say(f"deleted deployment {name!r}")


def _confirmed(question: str) -> bool:
    try:
        return typer.confirm(question, default=False)
    except typer.Abort:  # no terminal to ask on (stdin closed)
        return False


# -- routing ---------------------------------------------------------------------------------


@deploy_app.command("set-route")
def set_route(
    ctx: typer.Context,
    name: str,
    model: ModelOption,
    canary: Annotated[
        int | None, typer.Option("--canary", help="Send this percent of requests at random.")
    ] = None,
    ab: Annotated[
        str | None,
        typer.Option("--ab", help="A/B split, sticky by this request field or header."),
    ] = None,
    weight: Annotated[
        int | None, typer.Option("--weight", help="Percent of the A/B split (default 50).")
    ] = None,
    shadow: Annotated[
        bool, typer.Option("--shadow", help="Send a copy of every request; answers recorded.")
    ] = False,
    note: NoteOption = "",
) -> None:
    """Route NAME to --model as a canary, an A/B arm or a shadow; none of them: all traffic."""
    if weight is not None and ab is None:
        raise InvalidInput("--weight applies to an A/B split: add --ab KEY (or use --canary N)")
    changed = _deployments(ctx).set_route(
        name,
        model,
        canary=canary,
        ab_key=ab,
        ab_weight=50 if weight is None else weight,
        shadow=shadow,
        note=note,
    )
    _say_changed(changed)


@deploy_app.command("remove-route")
def remove_route(ctx: typer.Context, name: str, model: ModelOption, note: NoteOption = "") -> None:
    """Stop routing NAME to --model (a canary, A/B arm or shadow; never the primary)."""
    _say_changed(_deployments(ctx).remove_route(name, model, note))


@deploy_app.command("promote")
def promote(
    ctx: typer.Context,
    name: str,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Default: the canary or A/B arm.")
    ] = None,
    note: NoteOption = "",
) -> None:
    """Give the candidate (or --model) all live traffic, as the new primary."""
    _say_changed(_deployments(ctx).promote(name, model, note))


@deploy_app.command("rollback")
def rollback(ctx: typer.Context, name: str, note: NoteOption = "") -> None:
    """Return NAME to its previous revision's routing and config (twice: back again)."""
    _say_changed(_deployments(ctx).rollback(name, note))


@deploy_app.command("update")
def update(
    ctx: typer.Context,
    name: str,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    policy: PolicyOption = None,
    batching: BatchingOption = None,
    batching_auto: Annotated[
        bool,
        typer.Option("--batching-auto", help="Follow the model again (undo --[no-]batching)."),
    ] = False,
    batch_max_rows: MaxRowsOption = None,
    batch_wait_ms: WaitOption = None,
    note: NoteOption = "",
) -> None:
    """Change NAME's description, contract policy or batching; the routing stays."""
    if batching_auto and batching is not None:
        raise InvalidInput("choose one of --batching, --no-batching and --batching-auto")
    deployments = _deployments(ctx)
    changes = (policy, batching, batch_max_rows, batch_wait_ms)
    config = None
    if batching_auto or any(value is not None for value in changes):
        current = deployments.get(name).config
        config = _config(current, policy, batching, batch_max_rows, batch_wait_ms)
        config = replace(config, batching=None) if batching_auto else config
    elif description is None:
        raise InvalidInput("nothing to update: give --description, --policy or a batching option")
    changed = deployments.update(name, description=description, config=config, note=note)
    _say_changed(changed)


def _config(
    base: ServingConfig,
    policy: str | None,
    batching: bool | None,
    batch_max_rows: int | None,
    batch_wait_ms: float | None,
) -> ServingConfig:
    """``base`` with the options given on the command line (``None``: not given)."""
    return ServingConfig(
        policy=base.policy if policy is None else policy,
        batching=base.batching if batching is None else batching,
        batch_max_rows=base.batch_max_rows if batch_max_rows is None else batch_max_rows,
        batch_wait_ms=base.batch_wait_ms if batch_wait_ms is None else batch_wait_ms,
    )


def _say_changed(deployment: Deployment) -> None:
    say(f"{deployment.name} revision {deployment.revision}: {_summary(deployment.routing)}")


def _summary(routing: Routing) -> str:
    """``churn/7 90%, churn/8 canary 10%, churn@staging shadow``: the arms on one line."""
    return ", ".join(_describe(arm) for arm in routing.arms)


def _describe(arm: Arm) -> str:
    if arm.role is ArmRole.SHADOW:
        return f"{arm.ref} shadow"
    role = "" if arm.role is ArmRole.PRIMARY else f" {arm.role.value}"
    return f"{arm.ref}{role} {arm.weight}%"


# -- status and history ----------------------------------------------------------------------


@deploy_app.command("status")
def status(ctx: typer.Context, name: str, output: OutputOption = OutputFormat.TABLE) -> None:
    """NAME's arms, the version each resolves to now, its traffic share and serving config."""
    deployments = _deployments(ctx)
    deployment, versions, problem = _resolved(deployments, name)
    if output is OutputFormat.JSON:
        pairs = zip(deployment.routing.arms, versions, strict=True)
        arms = [{**arm.to_dict(), "version": version} for arm, version in pairs]
        print_json({"deployment": deployment, "arms": arms, "problem": problem})
        return
    table = new_table(
        f"Deployment {deployment.name} (revision {deployment.revision})",
        "role",
        "model",
        "selector",
        "version now",
        "weight",
    )
    for arm, version in zip(deployment.routing.arms, versions, strict=True):
        share = "copy" if arm.role is ArmRole.SHADOW else f"{arm.weight}%"
        table.add_row(arm.role.value, arm.model, arm.selector, _version(version), share)
    console().print(table)
    config = deployment.config
    say(f"policy {config.policy}, batching {_batching(config)}")
    if deployment.routing.ab_key is not None:
        say(f"A/B split by {deployment.routing.ab_key!r}")
    if problem is not None:
        warn(problem)


def _resolved(
    deployments: DeploymentsApi, name: str
) -> tuple[Deployment, list[int | None], str | None]:
    """The deployment and each arm's version now. An alias moved off or a version deleted
    since is shown, not fatal: status is what an operator runs when something is wrong."""
    try:
        deployment, resolved = deployments.resolve(name)
    except NotFound as exc:
        deployment = deployments.get(name)  # NotFound again: the deployment itself is gone
        return deployment, [None] * len(deployment.routing.arms), exc.message
    return deployment, [r.version for r in resolved], None


def _version(version: int | None) -> str:
    return MISSING if version is None else f"v{version}"


def _batching(config: ServingConfig) -> str:
    if config.batching is False:
        return "off"
    mode = "on" if config.batching else "as the model says"
    return f"{mode} (up to {config.batch_max_rows} rows, {config.batch_wait_ms:g} ms wait)"


@deploy_app.command("history")
def history(ctx: typer.Context, name: str, output: OutputOption = OutputFormat.TABLE) -> None:
    """Every revision of NAME, oldest first: what changed, when, by whom, and why."""
    events = _deployments(ctx).history(name)
    if output is OutputFormat.JSON:
        print_json(events)
        return
    console().print(_history_table(name, events))


def _history_table(name: str, events: Sequence[DeploymentEvent]) -> Table:
    table = new_table(f"History of {name}", "revision", "action", "time", "actor", "arms")
    table.add_column("note")
    for e in events:
        table.add_row(
            str(e.revision),
            e.action.value,
            format_time(e.time),
            e.actor,
            _summary(e.routing),
            e.note or MISSING,
        )
    return table


# -- outcomes and records --------------------------------------------------------------------


@deploy_app.command("outcomes")
def outcomes(
    ctx: typer.Context,
    name: str,
    file: Annotated[Path, typer.Option("--file", "-f", help="A .csv or .parquet file.")],
    id_column: Annotated[
        str, typer.Option("--id-column", help="The column holding request ids.")
    ] = "request_id",
    value_column: Annotated[
        str, typer.Option("--value-column", help="The column holding the true values.")
    ] = "value",
) -> None:
    """Log ground truth for NAME's requests from a file of request ids and values."""
    from gnomon.predictions.outcomes import MAX_OUTCOMES, check_outcomes

    frame = _outcomes_frame(file, id_column, value_column)
    check_outcomes(frame, limit=len(frame))  # every row, before any is written
    deployments = _deployments(ctx)
    logged = 0
    for start in range(0, max(len(frame), 1), MAX_OUTCOMES):
        logged += deployments.log_outcomes(name, frame.iloc[start : start + MAX_OUTCOMES])
    say(f"logged {logged} outcomes for deployment {name!r}")


def _outcomes_frame(file: Path, id_column: str, value_column: str) -> pd.DataFrame:
    """``file``'s two columns as ``request_id`` and ``value``; ids read as text from CSV."""
    import pandas as pd

    if not file.is_file():
        raise InvalidInput(f"no such file: {file}")
    suffix = file.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise InvalidInput(f"read outcomes from a .csv or .parquet file, not {file.name!r}")
    try:
        if suffix == ".csv":
            frame = pd.read_csv(file, dtype={id_column: str})
        else:
            frame = pd.read_parquet(file)
    except Exception as exc:  # a malformed file is the caller's input, not our bug
        raise InvalidInput(f"could not read {file}: {exc}") from exc
    missing = [c for c in (id_column, value_column) if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"{file.name} has no column {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(map(str, frame.columns))}); use --id-column/--value-column"
        )
    return pd.DataFrame({"request_id": frame[id_column], "value": frame[value_column]})


@deploy_app.command("records")
def records(
    ctx: typer.Context,
    name: str,
    last: Annotated[int, typer.Option("--last", "-n", help="How many of the newest.")] = 20,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """NAME's newest prediction records, with their outcomes where known."""
    rows = _plain_rows(_deployments(ctx).records(name, limit=last))
    if output is OutputFormat.JSON:
        print_json(rows)
        return
    table = new_table(f"Records of {name}", "time", "request id", "role", "model", "inputs")
    for column in ("output", "latency ms", "outcome"):
        table.add_column(column)
    for row in rows:
        version = row["model_version"]
        table.add_row(
            row["time"] or MISSING,
            row["request_id"],
            row["role"],
            row["model_name"] if version is None else f"{row['model_name']}/{version}",
            _short(row["inputs"]),
            _short(row["outputs"]),
            f"{row['latency_ms']:.1f}",
            MISSING if row.get("outcome_time") is None else _short(row["outcome"]),
        )
    console().print(table)
    if not rows:
        say(f"no records of deployment {name!r} yet")


def _plain_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of plain JSON values: times as local ISO text, missing values as None."""
    import pandas as pd

    plain = frame.astype(object).where(frame.notna(), None)
    rows: list[dict[str, Any]] = plain.to_dict(orient="records")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                row[key] = format_time(int(value.timestamp() * 1000))
    return rows


def _short(value: Any, width: int = 40) -> str:
    import json

    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= width else text[: width - 1] + "…"
