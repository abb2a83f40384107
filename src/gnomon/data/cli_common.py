"""What every ``gnomon data`` command module shares: the datasets API and size text."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from gnomon.cli.output import client_of, printable, say
from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    from rich.table import Table

    from gnomon.data.api import DatasetsApi
    from gnomon.data.entities import AddResult


def datasets_of(ctx: typer.Context) -> DatasetsApi:
    client = client_of(ctx)
    try:
        return client.datasets  # type: ignore[no-any-return]
    except AttributeError:
        raise InvalidInput("this GNOMON_URI offers no datasets") from None


def say_text(text: str, style: str | None = None) -> None:
    """``say``, with the control characters of names and messages people chose made
    visible (``\\xNN``): a dataset's file names, messages and columns are anyone's."""
    say(printable(text), style)


def add_row(table: Table, *cells: str) -> None:
    table.add_row(*(printable(cell) for cell in cells))


def add_json(result: AddResult) -> dict[str, object]:
    """What ``add`` and ``ingest`` print with ``-o json`` (and the quick path, see quick.py)."""
    version = result.version
    return {
        "name": version.dataset,
        "version": version.version,
        "ref": version.ref,
        "created": result.created,
        "files": version.files,
        "bytes": version.bytes,
        "new_objects": result.new_objects,
        "new_bytes": result.new_bytes,
        "manifest_digest": version.manifest_digest,
        "validation": None if result.validation is None else result.validation.to_dict(),
    }
