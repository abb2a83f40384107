"""The root command group: commands read from the capability manifest, each imported only
when it runs, and every ``GnomonError`` turned into one line on stderr.

``gnomon --help`` lists the manifest's names and help texts without importing a single
capability, so it starts as fast as Typer itself; ``gnomon runs ...`` imports
``gnomon.tracking.cli`` and nothing of the registry, deployments or serving.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

from gnomon import capabilities
from gnomon.capabilities import Capability, Command
from gnomon.cli.global_options import add_global_options
from gnomon.cli.output import CliState, report_error
from gnomon.errors import GnomonError

if TYPE_CHECKING:
    # Typer vendors its own click (0.26 on): its classes are named here for typing only.
    from typer import _click

# Set in ctx.meta while help or completion lists the commands: stubs answer, nothing is imported.
_LISTING = "gnomon.listing"


class GnomonGroup(TyperGroup):
    """Lists the manifest's commands, imports one when it runs, reports errors in one line."""

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return [command.name for _, command in capabilities.commands()]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        entry = _find(cmd_name)
        if entry is None:
            return None
        capability, command = entry
        if ctx.meta.get(_LISTING):
            return TyperCommand(command.name, help=command.help, short_help=command.help)
        # The root's own options are parsed by now: a root --output becomes the default of
        # the commands that print a table or JSON.
        return _load(capability, command, ctx.params.get("output"))

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        with _listing(ctx):
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx: _click.Context, incomplete: str) -> Any:
        with _listing(ctx):
            return super().shell_complete(ctx, incomplete)

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        name = args[0] if args else ""
        # Typer suggests from the commands a group holds, and this one holds none until run.
        if name and not name.startswith("-") and _find(name) is None and not ctx.resilient_parsing:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GnomonError as exc:
            state = ctx.obj
            # A --debug after the command name is in the state, not in the root's ctx.params.
            debug = state.debug if isinstance(state, CliState) else bool(ctx.params.get("debug"))
            report_error(exc, debug=debug)
            raise typer.Exit(1) from None


@contextmanager
def _listing(ctx: _click.Context) -> Iterator[None]:
    ctx.meta[_LISTING] = True
    try:
        yield
    finally:
        ctx.meta.pop(_LISTING, None)


def _find(name: str) -> tuple[Capability, Command] | None:
    return next(((c, cmd) for c, cmd in capabilities.commands() if cmd.name == name), None)


def _load(capability: Capability, command: Command, output: object) -> _click.Command:
    """The manifest's target as a command: a Typer app as a group, a function as one command;
    either way with the global options added to every command it holds."""
    target = capability.load(command.target)
    if isinstance(target, typer.Typer):
        # get_group, not get_command: an app of one subcommand stays a group (gnomon k8s manifests).
        loaded: _click.Command = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)  # the root offers completion
        single.command(command.name)(target)
        loaded = typer.main.get_command(single)
    loaded.name = command.name
    add_global_options(loaded, output)
    return loaded
