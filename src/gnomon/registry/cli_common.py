"""What several ``gnomon models`` command modules share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from gnomon.cli.output import say

if TYPE_CHECKING:
    from gnomon.registry.entities import ModelVersion

AliasOption = Annotated[
    str | None, typer.Option("--alias", "-a", help="Point this alias at the new version.")
]


def say_registered(version: ModelVersion, alias: str | None) -> None:
    suffix = f" (@{alias})" if alias else ""
    say(f"registered {version.model_name} version {version.version}{suffix}")
