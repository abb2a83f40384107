"""The root ``gnomon`` command: its global options, and the commands of the capability manifest
(``gnomon.capabilities``), each imported only when it runs (``group.py``)."""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from gnomon.cli.global_options import PANEL
from gnomon.cli.group import GnomonGroup
from gnomon.cli.output import CliState, OutputFormat

app = typer.Typer(
    cls=GnomonGroup,
    name="gnomon",
    help="gnomon: track experiments and carry models through their whole life.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


# What main() starts the root context with: gnomon runs as its own process, so the command
# sets up the process's logging (a test invoking ``app`` in its own process does not).
_OWN_PROCESS = object()


def _print_version(value: bool) -> None:
    if value:
        from gnomon.cli.db import version

        version()
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks on errors.", rich_help_panel=PANEL)
    ] = False,
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            envvar="GNOMON_WORKSPACE",
            help="Workspace to act in.",
            rich_help_panel=PANEL,
        ),
    ] = None,
    output: Annotated[
        OutputFormat | None,
        typer.Option(
            "--output",
            "-o",
            help="table or json, for the commands that print either (as their own --output).",
            rich_help_panel=PANEL,
        ),
    ] = None,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            expose_value=False,
            help="Print the gnomon version and exit.",
        ),
    ] = False,
) -> None:
    # Settings are built on first use (CliState): a --workspace after the command name may
    # still change the workspace, and `gnomon version` never loads them.
    process = ctx.invoked_subcommand if ctx.obj is _OWN_PROCESS else None
    ctx.obj = CliState(workspace, debug, output, process)


def main() -> None:
    """Entry point of the ``gnomon`` console script."""
    import sys

    if sys.argv[1:3] == ["data", "add"]:  # unchanged data is told before Typer even parses
        from gnomon.data.quick import answer_argv

        if answer_argv(sys.argv[1:]):
            return
    try:
        app(obj=_OWN_PROCESS)
    finally:
        # The command is done; what is left is exiting. Frozen, the heap is not walked again
        # by the interpreter's last collections (0.1-0.2 s of SQLAlchemy's and pydantic's
        # objects here); exit handlers still run, and the flushes they do.
        gc.freeze()
