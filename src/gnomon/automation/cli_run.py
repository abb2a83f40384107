"""``gnomon run PATH_OR_GIT_URL@REF -e ENTRY -p k=v``: a project's entry point at a git ref."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from gnomon.automation.run_project import ProjectRun, run_project
from gnomon.cli.output import (
    OutputFormat,
    OutputOption,
    client_of,
    hint,
    print_json,
    printable,
    say,
    warn,
)
from gnomon.errors import InvalidInput


def run(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            help="A git repository, a folder or a URL (https, ssh, git, file), with @REF: a "
            "branch, tag or commit (default: its HEAD).",
            show_default=False,
        ),
    ],
    entry_point: Annotated[
        str, typer.Option("--entry-point", "-e", help="An entry point of its gnomon.yaml.")
    ] = "main",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="NAME=VALUE for a declared parameter; repeat for each."),
    ] = None,
    experiment: Annotated[
        str | None,
        typer.Option(help="Experiment of the runs it starts (default: GNOMON_EXPERIMENT)."),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds the entry point may run (default: no limit).")
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Run a project's entry point from a clean checkout at a git ref, recorded.

    The entry point's output goes to stderr as it runs; every run it starts is tagged with
    the project, ref, commit, entry point and params, so gnomon reproduce can run it again.
    """
    client = client_of(ctx)
    status = Console(stderr=True).status("starting")
    with status:
        ran = run_project(
            client,
            source,
            entry_point,
            parse_params(param or []),
            experiment=experiment,
            timeout=timeout,
            output=sys.stderr,
            on_progress=lambda stage: status.update(printable(stage)),
        )
    if output is OutputFormat.JSON:
        print_json(ran)
    else:
        _show(ran)


def parse_params(given: list[str]) -> dict[str, str]:
    """``["lr=0.1", "note=a=b"]`` as ``{"lr": "0.1", "note": "a=b"}``; ``InvalidInput`` for
    a missing ``=`` or a name given twice."""
    params: dict[str, str] = {}
    for item in given:
        name, equals, value = item.partition("=")
        name = name.strip()
        if not equals or not name:
            raise InvalidInput(f"-p takes NAME=VALUE, not {item[:80]!r}")
        if name in params:
            raise InvalidInput(f"parameter {name!r} is given twice")
        params[name] = value
    return params


def _show(ran: ProjectRun) -> None:
    for warning in ran.warnings:
        warn(printable(warning))
    say(
        f"ran entry point {printable(ran.entry_point)} of project {printable(ran.project)} "
        f"at {ran.commit[:12]} ({printable(ran.uri)}@{printable(ran.ref)})"
    )
    for name, value in sorted(ran.params.items()):
        say(f"  {printable(name)} = {printable(value)}")
    if not ran.run_ids:
        hint(f"it logged no run in experiment {printable(ran.experiment)}")
    for run_id in ran.run_ids:
        say(f"run {run_id}")
    if ran.run_ids:
        hint(f"gnomon reproduce {ran.run_ids[-1]}  # run it again at the same commit")
