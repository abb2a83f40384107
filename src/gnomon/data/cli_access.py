"""``gnomon data access show|set``: who may use a dataset on a server (nobody listed: the
workspace's roles decide; listed: only those users and the workspace's admins see it)."""

from __future__ import annotations

from typing import Annotated

import typer

from gnomon.cli.output import OutputFormat, OutputOption, print_json
from gnomon.data.access import DatasetAccess
from gnomon.data.cli_common import datasets_of, say_text

access_app = typer.Typer(help="Restrict a dataset to named users (on a server).")


@access_app.command("show")
def show(ctx: typer.Context, name: str, output: OutputOption = OutputFormat.TABLE) -> None:
    """Who may read and change the dataset."""
    _print(datasets_of(ctx).access(name), output)


@access_app.command("set")
def set_access(
    ctx: typer.Context,
    name: str,
    reader: Annotated[list[str] | None, typer.Option(help="A user who may read it.")] = None,
    writer: Annotated[list[str] | None, typer.Option(help="A user who may also change it.")] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Replace the dataset's list; with no --reader or --writer, open it to the workspace."""
    changed = datasets_of(ctx).set_access(name, readers=reader or [], writers=writer or [])
    _print(changed, output)


def _print(access: DatasetAccess, output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        print_json(
            {
                "dataset": access.dataset,
                "restricted": access.restricted,
                "readers": list(access.readers),
                "writers": list(access.writers),
            }
        )
        return
    if not access.restricted:
        say_text(f"{access.dataset}: open to the workspace (viewers read, editors write)")
        return
    say_text(f"{access.dataset}: restricted to the users listed and the workspace's admins")
    say_text(f"  writers: {', '.join(access.writers) or '-'}")
    say_text(f"  readers: {', '.join(access.readers) or '-'}")
