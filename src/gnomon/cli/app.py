"""The root ``gnomon`` command: global options, error handling, and every capability's commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from gnomon.auth.cli import (
    audit,
    login,
    logout,
    tokens_app,
    users_app,
    whoami,
    workspaces_app,
)
from gnomon.cli.db import db_app, version
from gnomon.cli.output import (
    MISSING,
    CliState,
    console,
    display_uri,
    format_duration,
    new_table,
    report_error,
    say,
    state_of,
)
from gnomon.deployments.cli import deploy_app
from gnomon.errors import GnomonError, InvalidInput
from gnomon.registry.cli import models_app
from gnomon.server.cli import server
from gnomon.serving.batch_cli import predict
from gnomon.serving.cli import serve
from gnomon.serving.packaging_cli import build_image, k8s_app
from gnomon.tracking.cli import experiments_app, runs_app

if TYPE_CHECKING:
    from gnomon.config import Settings
    from gnomon.demo import DemoResult, ModelSpec, ServingDemo


class _GnomonGroup(TyperGroup):
    """Turns a ``GnomonError`` from any command into one line on stderr and exit status 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except GnomonError as exc:
            # ctx.params is parsed before the callback runs, so --debug is known even when
            # building the settings is what failed.
            report_error(exc, debug=bool(ctx.params.get("debug")))
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_GnomonGroup,
    name="gnomon",
    help="gnomon: track experiments and carry models through their whole life.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(experiments_app, name="experiments")
app.add_typer(runs_app, name="runs")
app.add_typer(models_app, name="models")
app.add_typer(deploy_app, name="deploy")
app.add_typer(db_app, name="db")
app.command("version")(version)
app.command("server")(server)
app.command("serve")(serve)
app.command("predict")(predict)
app.command("build-image")(build_image)
app.add_typer(k8s_app, name="k8s")
app.command("login")(login)
app.command("logout")(logout)
app.command("whoami")(whoami)
app.add_typer(users_app, name="users")
app.add_typer(workspaces_app, name="workspaces")
app.add_typer(tokens_app, name="tokens")
app.command("audit")(audit)


@app.callback()
def root(
    ctx: typer.Context,
    # Read by _GnomonGroup.invoke from ctx.params, before this callback runs.
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    workspace: Annotated[
        str | None,
        typer.Option("--workspace", envvar="GNOMON_WORKSPACE", help="Workspace to act in."),
    ] = None,
) -> None:
    ctx.obj = CliState(_settings(workspace))


def _settings(workspace: str | None) -> Settings:
    # Imported here, like everything heavy, so `gnomon --help` starts fast.
    from pydantic import ValidationError

    from gnomon.config import Settings

    try:
        return Settings(workspace=workspace) if workspace else Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"invalid GNOMON_* setting: {problems}") from exc


@app.command()
def demo(
    ctx: typer.Context,
    quick: Annotated[
        bool, typer.Option("--quick", help="Train three small models instead of five.")
    ] = False,
) -> None:
    """Train a few scikit-learn models on a bundled dataset and track each as a run."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    import gnomon
    from gnomon.demo import EXPERIMENT, model_specs, run_demo

    # The demo logs through the fluent SDK, whose client reads GNOMON_* itself and cannot be
    # handed ours: refuse rather than write to another workspace than the one asked for.
    wanted = state_of(ctx).settings.workspace
    if gnomon.get_client().settings.workspace != wanted:
        raise InvalidInput(f"gnomon demo cannot use --workspace: set GNOMON_WORKSPACE={wanted}")

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console(), transient=True) as progress:
        task = progress.add_task("training", total=len(model_specs(quick)))

        def trained(spec: ModelSpec) -> None:
            progress.update(task, advance=1, description=f"trained {spec.name}")

        result = run_demo(quick, on_trained=trained)
    _print_demo(result, EXPERIMENT)


# Params every demo run has; the table shows the hyperparameters that tell runs apart.
_NOT_SHOWN = frozenset({"model", "test_size"})


def _print_demo(result: DemoResult, experiment: str) -> None:
    table = new_table(f"Experiment {experiment!r}", "run", "params", "accuracy", "f1", "roc_auc")
    table.add_column("duration")
    for run in result.runs:
        params = ", ".join(f"{k}={v}" for k, v in run.params.items() if k not in _NOT_SHOWN)
        scores = [_score(run.metrics.get(key)) for key in ("accuracy", "f1", "roc_auc")]
        table.add_row(run.name, params, *scores, format_duration(run.duration_ms))
    table.columns[0].no_wrap = True
    console().print(table)
    if result.best is not None:
        best = result.best
        say(f"best run by f1: {best.name} (f1={_score(best.metrics.get('f1'))}, id {best.id})")
    version = result.registered
    if version is not None:
        aliases = ", ".join(version.aliases)
        say(f"registered: {version.model_name} version {version.version} as {aliases}")
        say(
            f"loaded back by models:/{version.model_name}@{version.aliases[0]}: "
            f"test accuracy {_score(result.loaded_accuracy)}"
        )
    if result.served is not None:
        _print_serving(result.served)
    say(f"metadata:  {display_uri(result.store_uri)}")
    say(f"artifacts: {result.artifact_root}")
    say(f"next: gnomon runs list --experiment {experiment}", style="dim")
    if version is not None:
        say(f"      gnomon models show {version.model_name}", style="dim")


def _print_serving(served: ServingDemo) -> None:
    say(f"deployed it as {served.deployment!r}, served at {served.url}/predict:")
    request_id = served.answer["request_id"][:8]
    version = served.answer["model_version"]
    say(
        f"  3 rows -> predictions {served.answer['predictions']} "
        f"by version {version} (request {request_id}…)"
    )
    violations = served.refusal["error"]["details"].get("violations", [])
    say(f"  a bad request -> {served.refusal_status}, naming every problem:")
    for v in violations:
        say(f"    row {v['row']} {v['column']!r}: {v['problem']}, expected {v['expected']}")
    say(f"  {served.records} predictions recorded (Parquet, by deployment and hour)")
    canary = served.canary
    if canary is None:
        return
    say(
        f"canary: version {canary.version} ({canary.run_name}, the runner-up) takes "
        f"{canary.weight}% of traffic, picked up by the running server without a restart"
    )
    table = new_table(f"{canary.requests} requests", "model version", "answered", "share")
    for number, count in canary.answered_by.items():
        table.add_row(str(number), str(count), f"{count / canary.requests:.0%}")
    console().print(table)
    recorded = ", ".join(f"{key}: {n}" for key, n in canary.recorded.items())
    say(f"  recorded by role and version: {recorded}")
    say(
        f"  next: gnomon deploy status {served.deployment}; "
        f"gnomon deploy promote|rollback {served.deployment}",
        style="dim",
    )


def _score(value: float | None) -> str:
    return MISSING if value is None else f"{value:.4f}"


def main() -> None:
    """Entry point of the ``gnomon`` console script."""
    app()
