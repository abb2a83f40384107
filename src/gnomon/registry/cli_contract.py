"""``gnomon models contract show|edit``: the input contract a version enforces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    client_of,
    console,
    format_value,
    hint,
    new_table,
    print_json,
    say,
)
from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    from gnomon.modelfolder import ColumnSpec, Contract
    from gnomon.registry.api import RegistryApi
    from gnomon.registry.entities import ModelVersion


contract_app = typer.Typer(help="Show and edit the input contract a version enforces.")


# -- contracts -------------------------------------------------------------------------------


@contract_app.command("show")
def show_contract(
    ctx: typer.Context,
    name: str,
    version: Annotated[str | None, typer.Argument(help="Number or alias; default: latest.")] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Show a version's input and output columns: dtype, nullable, bounds, categories."""
    registry = client_of(ctx).registry
    found = registry.get_version(name, version)
    contract = registry.get_contract(name, found.version)
    if output is OutputFormat.JSON:
        body = contract.to_dict() if contract else None
        print_json({"model": name, "version": found.version, "contract": body})
        return
    print_contract(name, found.version, contract)


def print_contract(name: str, version: int, contract: Contract | None) -> None:
    if contract is None:
        say(f"{name} version {version} has no contract (logged without an input example)")
        return
    for title, columns in (("Inputs", contract.inputs), ("Outputs", contract.outputs)):
        if columns:
            console().print(_columns_table(f"{title} of {name} version {version}", columns))
    hint(f"margin: {contract.margin:g} of each range on either side")


def _columns_table(title: str, columns: Sequence[ColumnSpec]) -> Table:
    table = new_table(title, "column", "dtype", "nullable", "min", "max", "categories")
    for c in columns:
        categories = ", ".join(map(str, c.categories)) if c.categories is not None else MISSING
        nullable = "yes" if c.nullable else "no"
        table.add_row(
            c.name, c.dtype, nullable, format_value(c.minimum), format_value(c.maximum), categories
        )
    return table


@contract_app.command("edit")
def edit_contract(
    ctx: typer.Context,
    name: str,
    version: Annotated[str, typer.Argument(help="Number or alias.")],
    column: Annotated[str, typer.Option("--column", "-c", help="The input column to change.")],
    minimum: Annotated[float | None, typer.Option("--min", help="Lowest accepted value.")] = None,
    maximum: Annotated[float | None, typer.Option("--max", help="Highest accepted value.")] = None,
    categories: Annotated[
        str | None,
        typer.Option("--categories", help="Accepted values, comma-separated; '' clears."),
    ] = None,
    nullable: Annotated[
        bool | None, typer.Option("--nullable/--not-nullable", show_default=False)
    ] = None,
    dtype: Annotated[
        str | None, typer.Option("--dtype", help="int64, float64, bool, string...")
    ] = None,
) -> None:
    """Change one input column of a version's contract (what the model server enforces)."""
    registry = client_of(ctx).registry
    found = registry.get_version(name, version)
    contract = _contract_of(registry, found)
    if column not in contract.input_names:
        known = ", ".join(contract.input_names)
        raise InvalidInput(
            f"{name} version {found.version} has no input column {column!r} (columns: {known})"
        )
    current = contract.column(column)
    changes = _changes(current, minimum, maximum, categories, nullable, dtype)
    if not changes:
        raise InvalidInput(
            "nothing to change: pass --min, --max, --categories, --nullable or --dtype"
        )
    edited = contract.with_column(column, **changes)
    registry.set_contract(name, found.version, edited)
    spec = _describe(edited.column(column))
    say(f"updated column {column!r} of {name} version {found.version}: {spec}")


def _contract_of(registry: RegistryApi, version: ModelVersion) -> Contract:
    contract = registry.get_contract(version.model_name, version.version)
    if contract is None:
        raise InvalidInput(
            f"{version.model_name} version {version.version} has no contract to edit"
        )
    return contract


def _changes(
    current: ColumnSpec,
    minimum: float | None,
    maximum: float | None,
    categories: str | None,
    nullable: bool | None,
    dtype: str | None,
) -> dict[str, Any]:
    """The fields an edit sets; an option left out keeps the column's value."""
    target = dtype or current.dtype
    changes: dict[str, Any] = {}
    if minimum is not None:
        changes["minimum"] = _number(minimum, target)
    if maximum is not None:
        changes["maximum"] = _number(maximum, target)
    if categories is not None:
        changes["categories"] = _categories(categories, target)
    if nullable is not None:
        changes["nullable"] = nullable
    if dtype is not None:
        changes["dtype"] = dtype
    return changes


def _categories(text: str, dtype: str) -> list[Any] | None:
    values = [part.strip() for part in text.split(",") if part.strip()]
    if not values:
        return None
    if dtype in ("int64", "float64"):
        try:
            return [_number(float(v), dtype) for v in values]
        except ValueError:
            raise InvalidInput(
                f"--categories of a {dtype} column must be numbers: {text!r}"
            ) from None
    return values


def _number(value: float | None, dtype: str) -> float | int | None:
    if value is not None and dtype == "int64" and value.is_integer():
        return int(value)
    return value


def _describe(spec: ColumnSpec) -> str:
    parts = [spec.dtype + ("?" if spec.nullable else "")]
    if spec.minimum is not None or spec.maximum is not None:
        parts.append(f"in [{format_value(spec.minimum)}, {format_value(spec.maximum)}]")
    if spec.categories is not None:
        parts.append(f"one of {spec.categories}")
    return " ".join(parts)
