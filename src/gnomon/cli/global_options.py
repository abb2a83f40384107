"""Global options anywhere on the line: ``gnomon --workspace w runs list`` and
``gnomon runs list --workspace w`` mean the same, as do ``gnomon -o json runs list`` and
``gnomon runs list -o json``.

The root callback stores ``--workspace``, ``--debug`` and ``--output`` in the ``CliState``.
Every group and command a capability contributes also takes ``--workspace`` and ``--debug``
after its name (unless it has an option of that name itself, as ``tokens create --workspace``
does), which write to the same state before the command runs; and a root ``--output``
becomes the default of every command that prints a table or JSON. A command whose own option
means something else refuses the global one given before its name (``gnomon tokens
--workspace ci create t`` would otherwise make a token bound to no workspace).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup

from gnomon.cli.output import CliState, OutputFormat

if TYPE_CHECKING:
    from typer import _click

PANEL = "Global options"


def add_global_options(command: _click.Command, output: object = None) -> None:
    """Give ``command`` and every group and command under it the global options it does not
    define itself; ``output``, the root's ``--output``, becomes the default of their table/JSON
    choice."""
    for each in _tree(command):
        taken = {opt for param in each.params for opt in (*param.opts, *param.secondary_opts)}
        for option in _options():
            if not taken.intersection(option.opts):
                each.params.append(option)
        if isinstance(output, OutputFormat):
            for param in each.params:
                # `gnomon predict --output` is a file, not a format: only the choice qualifies.
                if param.name == "output" and isinstance(param.default, OutputFormat):
                    param.default = output


def _tree(command: _click.Command) -> Iterator[_click.Command]:
    yield command
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            yield from _tree(sub)


def _state(ctx: typer.Context) -> CliState | None:
    # None while a shell completes a command line: the root callback has not run.
    state = ctx.find_root().obj
    return state if isinstance(state, CliState) else None


def _set_workspace(ctx: typer.Context, value: str | None) -> None:
    state = _state(ctx)
    if value is not None and state is not None:
        state.workspace = value


def _set_debug(ctx: typer.Context, value: bool) -> None:
    state = _state(ctx)
    if value and state is not None:
        state.debug = True


def _declared(
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            callback=_set_workspace,
            expose_value=False,
            help="Workspace to act in (as gnomon --workspace; default GNOMON_WORKSPACE).",
            rich_help_panel=PANEL,
        ),
    ] = None,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            callback=_set_debug,
            expose_value=False,
            help="Show tracebacks on errors.",
            rich_help_panel=PANEL,
        ),
    ] = False,
) -> None:
    """Never called: its signature declares the options, built by Typer like any other."""


@cache
def _options() -> tuple[_click.Parameter, ...]:
    declared = typer.Typer(add_completion=False)
    declared.command()(_declared)
    return tuple(typer.main.get_command(declared).params)
