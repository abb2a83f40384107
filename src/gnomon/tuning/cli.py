"""``gnomon tune ...``: run a study from YAML, show what it found, list and delete studies.

``gnomon tune CONFIG.yaml`` is short for ``gnomon tune run CONFIG.yaml``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.text import Text
from typer.core import TyperGroup

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
    state_of,
    to_jsonable,
)
from gnomon.tuning.analysis import StudyReport, TrialRow, analyze


class _RunByDefault(TyperGroup):
    """A first word that is no command (a config file) runs it: ``gnomon tune x.yaml``."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


tune_app = typer.Typer(
    cls=_RunByDefault, help="Tune hyperparameters: run a study from YAML, show, list, delete."
)
StudyArg = Annotated[str, typer.Argument(help="The study's name or id.", show_default=False)]
_BAR = 30


@tune_app.command("run")
def run(
    ctx: typer.Context,
    config: Annotated[Path, typer.Argument(help="The study's YAML file.", show_default=False)],
    n_trials: Annotated[int | None, typer.Option(min=1, help="Trials to run (overrides).")] = None,
    timeout: Annotated[float | None, typer.Option(min=0.001, help="Seconds (overrides).")] = None,
    parallelism: Annotated[int | None, typer.Option(min=1, max=256, help="Workers.")] = None,
    executor: Annotated[str | None, typer.Option(help="local or ray (overrides).")] = None,
    study: Annotated[str | None, typer.Option(help="The study's name (overrides).")] = None,
    register: Annotated[
        str | None, typer.Option(help="Register the best model under this name.")
    ] = None,
    alias: Annotated[str | None, typer.Option(help="Point this alias at it.")] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Run (or continue) the study CONFIG describes; prints the best trial."""
    import gnomon
    from gnomon.tuning.config import load_config, load_objective

    found = load_config(config)
    overrides: dict[str, Any] = {
        "n_trials": n_trials,
        "timeout": timeout,
        "parallelism": parallelism,
        "executor": executor,
        "study": study,
    }
    settings = found.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    name = register or (found.register_best.name if found.register_best else None)
    chosen_alias = alias or (found.register_best.alias if found.register_best else None)
    workspace = state_of(ctx).workspace
    if workspace:
        gnomon.set_workspace(workspace)
    result = gnomon.tune(
        load_objective(settings.objective),
        settings.space,
        settings.n_trials,
        settings.direction,
        directions=settings.directions,
        metric_names=settings.metric_names,
        study=settings.study,
        sampler=settings.sampler,
        pruner=settings.pruner,
        parallelism=settings.parallelism,
        executor=settings.executor,  # type: ignore[arg-type]  # tune checks it
        timeout=settings.timeout,
        seed=settings.seed,
        params=settings.params,
        register=name,
        alias=chosen_alias,
        model_name=found.register_best.model if found.register_best else "model",
        ray_address=settings.ray_address,
        worker_resources=settings.worker_resources,
        objective_ref=settings.objective,
    )
    report = analyze(client_of(ctx).tuning, result.study, importances=False)  # type: ignore[attr-defined]
    if output is OutputFormat.JSON:
        print_json(_as_json(report) | {"registered": to_jsonable(result.registered)})
        return
    _print_best(report)
    if result.registered is not None:
        version = result.registered
        say(f"registered {version.model_name} version {version.version}", "green")
    say(f"  gnomon tune show {result.study.name}")


@tune_app.command("show")
def show(
    ctx: typer.Context,
    study: StudyArg,
    html: Annotated[
        Path | None, typer.Option(help="Also write the report, with charts, to this HTML file.")
    ] = None,
    top: Annotated[int, typer.Option(min=1, max=1000, help="Best trials listed.")] = 10,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """The study's best trials, parameter importances and optimisation history."""
    tuning = client_of(ctx).tuning  # type: ignore[attr-defined]
    report = analyze(tuning, tuning.get_study(study))
    if html is not None:
        from gnomon.tuning.html import report_html

        html.write_text(report_html(report), encoding="utf-8")
    if output is OutputFormat.JSON:
        print_json(_as_json(report))
        return
    _print_summary(report)
    _print_top(report, top)
    _print_importances(report)
    _print_history(report)
    if html is not None:
        say(f"report written to {html}")


@tune_app.command("list")
def list_studies(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Studies listed.")] = 100,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """The workspace's studies, newest first."""
    studies = client_of(ctx).tuning.list_studies(limit)  # type: ignore[attr-defined]
    if output is OutputFormat.JSON:
        print_json([to_jsonable(s) for s in studies])
        return
    table = new_table(None, "name", "directions", "sampler", "journal", "created", "id")
    for s in studies:
        table.add_row(
            s.name,
            ", ".join(s.directions),
            str(s.settings.get("sampler", MISSING)),
            f"{s.logs:,}",
            format_time(s.created_time),
            s.id,
        )
    console().print(table)


@tune_app.command("delete")
def delete(
    ctx: typer.Context,
    study: StudyArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Delete a study and its journal; its trials' runs stay in tracking."""
    tuning = client_of(ctx).tuning  # type: ignore[attr-defined]
    found = tuning.get_study(study)
    if not yes:
        typer.confirm(f"Delete study {found.name!r} and its journal?", abort=True)
    tuning.delete_study(found.id)
    say(f"deleted study {found.name}")


def _print_summary(report: StudyReport) -> None:
    s = report.study
    counts = ", ".join(f"{n} {state.lower()}" for state, n in sorted(report.states.items()))
    say(
        f"study {s.name}  ({', '.join(s.directions)}; {s.settings.get('sampler', '?')} sampler, "
        f"pruner {s.settings.get('pruner') or 'none'})"
    )
    say(f"trials: {counts or 'none yet'}", None)


def _print_best(report: StudyReport) -> None:
    if not report.best:
        say("no trial completed", "yellow")
        return
    for trial in report.best[:10]:
        values = ", ".join(
            f"{n}={_num(v)}" for n, v in zip(report.metric_names, trial.values or (), strict=False)
        )
        say(f"best trial {trial.number}: {values}", "green")
        say(f"  params {trial.params}", None)


def _print_top(report: StudyReport, top: int) -> None:
    done = [t for t in report.trials if t.state == "COMPLETE" and t.values]
    if report.study.multi_objective:
        chosen, title = report.best[:top], "Pareto front"
    else:
        maximize = report.study.directions[0] == "maximize"
        chosen = sorted(done, key=lambda t: t.values[0], reverse=maximize)[:top]  # type: ignore[index]
        title = f"best {len(chosen)} trials"
    params = list(dict.fromkeys(k for t in chosen for k in t.params))[:8]
    table = new_table(title, "trial", *report.metric_names, *params, "seconds", "run")
    for t in chosen:
        table.add_row(
            str(t.number),
            *(_num(v) for v in (t.values or ())),
            *(_param(t.params.get(p)) for p in params),
            _num(t.seconds),
            t.run_id or MISSING,
        )
    console().print(table)


def _print_importances(report: StudyReport) -> None:
    if not report.importances:
        say(report.note or "no importances", "dim")
        return
    out = console()
    out.print(Text(f"parameter importances ({report.metric_names[0]})", style="bold"))
    width = max(len(name) for name in report.importances)
    for name, share in report.importances.items():
        bar = "█" * max(1, round(share * _BAR)) if share > 0 else ""
        out.print(
            Text(f"{name:<{width}} ") + Text(f"{bar:<{_BAR}}", style="cyan") + Text(f" {share:.2f}")
        )


def _print_history(report: StudyReport) -> None:
    from gnomon.tracking.chart import line_chart

    history = report.history()
    if len(history) < 2:
        return
    out = console()
    out.print(Text(f"best {report.metric_names[0]} so far, by trial", style="bold"))
    chart = line_chart([h[0] for h in history], [h[2] for h in history], min(out.width, 80), 8)
    for margin, plot in zip(chart.margin, chart.plot, strict=True):
        out.print(Text(margin, style="dim") + Text(plot, style="green"), soft_wrap=True)
    for line in chart.footer:
        out.print(Text(line, style="dim"), soft_wrap=True)


def _as_json(report: StudyReport) -> dict[str, Any]:
    def trial(t: TrialRow) -> dict[str, Any]:
        return to_jsonable(t)

    return {
        "study": to_jsonable(report.study),
        "states": report.states,
        "best": [trial(t) for t in report.best],
        "importances": report.importances,
        "trials": len(report.trials),
    }


def _num(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:.6g}" if math.isfinite(value) else str(value)


def _param(value: Any) -> str:
    return MISSING if value is None else (_num(value) if isinstance(value, float) else str(value))
