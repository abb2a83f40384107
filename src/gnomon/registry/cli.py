"""``gnomon models ...``: the model registry from the shell, thin commands over the registry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    client_of,
    console,
    every_page,
    format_time,
    format_value,
    new_table,
    print_json,
    say,
)
from gnomon.errors import NotFound
from gnomon.registry.cli_common import AliasOption, say_registered
from gnomon.registry.cli_compare import best_run, compare_versions
from gnomon.registry.cli_contract import contract_app, print_contract

if TYPE_CHECKING:
    from gnomon.registry.api import RegistryApi
    from gnomon.registry.entities import ModelVersion, RegisteredModel

models_app = typer.Typer(help="List, show, register, compare, promote and check registered models.")
alias_app = typer.Typer(help="Point aliases at versions, remove them and see who moved them.")
models_app.add_typer(alias_app, name="alias")
models_app.add_typer(contract_app, name="contract")


def _registry(ctx: typer.Context) -> RegistryApi:
    return client_of(ctx).registry


def _aliases(aliases: dict[str, int] | list[str]) -> str:
    if isinstance(aliases, dict):
        return ", ".join(f"@{a}→v{v}" for a, v in sorted(aliases.items())) or MISSING
    return ", ".join(f"@{a}" for a in sorted(aliases)) or MISSING


# -- models and versions ---------------------------------------------------------------------


@models_app.command("list")
def list_models(
    ctx: typer.Context,
    name_like: Annotated[
        str | None,
        typer.Option("--name-like", help="SQL LIKE pattern, case-insensitive: 'churn%'."),
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List registered models with their latest version and aliases."""
    registry = _registry(ctx)
    found = every_page(lambda token: registry.search_models(name_like, page_token=token))
    if output is OutputFormat.JSON:
        print_json(found)
        return
    table = new_table(None, "name", "latest", "aliases", "description", "updated")
    for model in found:
        table.add_row(
            model.name,
            format_value(model.latest_version),
            _aliases(model.aliases),
            model.description or MISSING,
            format_time(model.updated_time, compact=True),
        )
    console().print(table)


@models_app.command("show")
def show_model(
    ctx: typer.Context,
    name: str,
    version: Annotated[
        str | None,
        typer.Option("--version", help="Whose contract to show: number or alias; default latest."),
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Show a registered model, its versions (newest first) and a version's contract."""
    registry = _registry(ctx)
    model = registry.get_model(name)
    versions = every_page(lambda token: registry.search_versions(name, page_token=token))
    shown = _shown_version(registry, name, version)
    contract = registry.get_contract(name, shown.version) if shown else None
    if output is OutputFormat.JSON:
        body = None
        if shown is not None:
            body = {"version": shown.version, "contract": contract and contract.to_dict()}
        print_json({"model": model, "versions": versions, "contract": body})
        return
    console().print(_model_table(model))
    console().print(_versions_table(versions))
    if shown is not None:
        print_contract(name, shown.version, contract)


def _shown_version(registry: RegistryApi, name: str, selector: str | None) -> ModelVersion | None:
    """The version whose contract ``models show`` prints: the one asked for, else the
    latest READY one (none when every version is archived or there is none)."""
    if selector is not None:
        return registry.get_version(name, selector)
    try:
        return registry.get_version(name)
    except NotFound:
        return None


def _model_table(model: RegisteredModel) -> Table:
    table = new_table(f"Model {model.name}", "field", "value")
    rows = {
        "description": model.description or MISSING,
        "latest version": format_value(model.latest_version),
        "aliases": _aliases(model.aliases),
        "created": format_time(model.created_time),
        "updated": format_time(model.updated_time),
        "tags": ", ".join(f"{k}={v}" for k, v in sorted(model.tags.items())) or MISSING,
    }
    for key, value in rows.items():
        table.add_row(key, value)
    return table


def _versions_table(versions: Sequence[ModelVersion]) -> Table:
    table = new_table("Versions", "version", "status", "aliases", "flavor")
    table.add_column("run id", no_wrap=True)
    for column in ("created by", "created", "description"):
        table.add_column(column)
    for v in versions:
        table.add_row(
            str(v.version),
            v.status.value,
            _aliases(v.aliases),
            v.flavor,
            v.run_id or MISSING,
            v.created_by,
            format_time(v.created_time, compact=True),
            v.description or MISSING,
        )
    return table


@models_app.command("register")
def register(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="runs:/<run id>/<path> of a logged model.")],
    name: str,
    alias: AliasOption = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Register a run's logged model as the next version of NAME (created if needed)."""
    version = _registry(ctx).register(source, name, description=description, alias=alias)
    if output is OutputFormat.JSON:  # for scripts (CI) that go on with the version's number
        print_json(version)
        return
    say_registered(version, alias)


@models_app.command("import-mlflow")
def import_mlflow(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="An MLflow model folder (with an MLmodel file).")],
    name: str,
    alias: AliasOption = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
) -> None:
    """Register an MLflow model folder (sklearn or python_function flavor) as a version of NAME."""
    version = _registry(ctx).import_mlflow(path, name, alias=alias, description=description)
    say_registered(version, alias)


@models_app.command("archive")
def archive_version(ctx: typer.Context, name: str, version: int) -> None:
    """Archive a version: it stays loadable by number but is no longer "latest"."""
    found = _registry(ctx).archive_version(name, version)
    say(f"archived {found.model_name} version {found.version}")


@models_app.command("delete")
def delete_version(ctx: typer.Context, name: str, version: int) -> None:
    """Delete a version for good; aliases pointing at it are removed."""
    _registry(ctx).delete_version(name, version)
    say(f"deleted {name} version {version}")


@models_app.command("delete-model")
def delete_model(ctx: typer.Context, name: str) -> None:
    """Delete a registered model that has no versions left."""
    _registry(ctx).delete_model(name)
    say(f"deleted model {name!r}")


# -- aliases ---------------------------------------------------------------------------------


@alias_app.command("set")
def set_alias(ctx: typer.Context, name: str, alias: str, version: int) -> None:
    """Point ALIAS of model NAME at VERSION (recorded with who and when)."""
    event = _registry(ctx).set_alias(name, alias, version)
    was = f" (was version {event.previous})" if event.previous is not None else ""
    say(f"{name}@{alias} → version {event.version}{was}")


@alias_app.command("rm")
def remove_alias(ctx: typer.Context, name: str, alias: str) -> None:
    """Remove ALIAS from model NAME."""
    event = _registry(ctx).delete_alias(name, alias)
    say(f"removed {name}@{alias} (was version {format_value(event.previous)})")


@alias_app.command("history")
def alias_history(
    ctx: typer.Context,
    name: str,
    alias: Annotated[str | None, typer.Option("--alias", "-a", help="Only this alias.")] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Every move of the model's aliases, oldest first: who, when, from and to which version."""
    events = _registry(ctx).alias_history(name, alias)
    if output is OutputFormat.JSON:
        print_json(events)
        return
    table = new_table(f"Alias history of {name}", "time", "alias", "from", "to", "by")
    for e in events:
        to = "removed" if e.version is None else str(e.version)
        table.add_row(format_time(e.time), e.alias, format_value(e.previous), to, e.actor)
    console().print(table)


# -- compare, best ---------------------------------------------------------------------------

models_app.command("compare")(compare_versions)
models_app.command("best")(best_run)


# -- load-check ------------------------------------------------------------------------------


@models_app.command("load-check")
def load_check(ctx: typer.Context, uri: str, output: OutputOption = OutputFormat.TABLE) -> None:
    """Load a model by URI (models:/..., runs:/... or a folder) and say what it is."""
    from gnomon.registry.fluent import load_model

    model = load_model(uri, client_of(ctx))
    contract = model.contract
    if output is OutputFormat.JSON:
        body = contract.to_dict() if contract else None
        print_json(
            {"uri": uri, "flavor": model.flavor, "predict_proba": model.has_proba, "contract": body}
        )
        return
    say(f"loaded {uri}: flavor {model.flavor}, predict_proba {'yes' if model.has_proba else 'no'}")
    say(contract.describe() if contract else "no contract")
