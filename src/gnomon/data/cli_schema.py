"""``gnomon data schema show|edit`` and ``gnomon data validate``: a dataset's owned schema,
and data checked against it (exit code 3 when anomalies are found, for CI gates)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    console,
    new_table,
    print_json,
)
from gnomon.data.cli_common import add_row, datasets_of, say_text
from gnomon.data.schema import DatasetSchema
from gnomon.data.validation import Thresholds, ValidationReport
from gnomon.errors import InvalidInput

schema_app = typer.Typer(help="A dataset's schema: show it, tighten or loosen a column.")
ANOMALIES_EXIT = 3  # not 1 (an error) or 2 (a usage mistake): a CI step can tell them apart
SHOWN_CATEGORIES = 8


@schema_app.command("show")
def show(ctx: typer.Context, name: str, output: OutputOption = OutputFormat.TABLE) -> None:
    """The dataset's current schema: types, nulls, ranges, categories."""
    schema = datasets_of(ctx).schema(name)
    if output is OutputFormat.JSON:
        print_json(schema.to_dict())
        return
    print_schema(schema, f"schema of {name}")


def print_schema(schema: DatasetSchema, title: str) -> None:
    table = new_table(title, "column", "type", "nulls", "min", "max", "unique")
    table.add_column("categories")
    for column in schema.columns:
        add_row(
            table,
            column.name,
            column.type,
            f"{column.null_fraction:.1%}" if column.nullable else "none",
            _bound(column.min),
            _bound(column.max),
            "yes" if column.unique else "",
            _categories(column.categories),
        )
    console().print(table)
    edited = f", edited by {schema.edited_by}" if schema.edited_by else ""
    say_text(f"{schema.rows:,} rows inferred{edited}")


def _bound(value: float | str | None) -> str:
    if value is None:
        return MISSING
    return f"{value:.6g}" if isinstance(value, float) else value


def _categories(categories: dict[str, float] | None) -> str:
    if not categories:
        return ""
    names = list(categories)
    shown = ", ".join(names[:SHOWN_CATEGORIES])
    more = len(names) - SHOWN_CATEGORIES
    return f"{shown} (+{more})" if more > 0 else shown


@schema_app.command("edit")
def edit(
    ctx: typer.Context,
    name: str,
    column: str,
    minimum: Annotated[
        str | None, typer.Option("--min", help="Lowest allowed value (a number or ISO time).")
    ] = None,
    maximum: Annotated[str | None, typer.Option("--max", help="Highest allowed value.")] = None,
    nullable: Annotated[
        bool | None,
        typer.Option("--nullable/--not-nullable", help="Whether nulls are allowed."),
    ] = None,
    unique: Annotated[bool | None, typer.Option("--unique/--not-unique")] = None,
    categories: Annotated[
        str | None, typer.Option("--categories", help="The allowed values, comma-separated.")
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Tighten or loosen one column; later versions are validated against the result."""
    changes: dict[str, Any] = {}
    for key, value in (("min", minimum), ("max", maximum)):
        if value is not None:
            changes[key] = value
    if nullable is not None:
        changes["nullable"] = nullable
    if unique is not None:
        changes["unique"] = unique
    if categories is not None:
        changes["categories"] = [c.strip() for c in categories.split(",") if c.strip()]
    if not changes:
        raise InvalidInput("give at least one of --min --max --nullable --unique --categories")
    schema = datasets_of(ctx).edit_schema(name, column, **changes)
    if output is OutputFormat.JSON:
        print_json(schema.to_dict())
        return
    say_text(f"schema of {name}: column {column} changed")


def validate(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The dataset whose schema applies.")],
    target: Annotated[
        str, typer.Argument(help="A Parquet or CSV file or folder, or a version NAME@V.")
    ],
    null_rate: Annotated[float, typer.Option(help="Largest change of a null share.")] = 0.1,
    numeric_shift: Annotated[
        float, typer.Option(help="Largest move of a median, in interquartile ranges.")
    ] = 0.5,
    category_shift: Annotated[
        float, typer.Option(help="Largest total variation of category shares.")
    ] = 0.2,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Check data against a dataset's schema; exit code 3 when there are anomalies."""
    thresholds = Thresholds(null_rate, numeric_shift, category_shift)
    report = datasets_of(ctx).validate(name, _target(target), thresholds)
    if output is OutputFormat.JSON:
        print_json(report.to_dict())
    else:
        print_report(report, f"{target} against the schema of {name}")
    if not report.ok:
        raise typer.Exit(ANOMALIES_EXIT)


def _target(text: str) -> str | Path:
    return Path(text) if Path(text).exists() else text


def print_report(report: ValidationReport, title: str) -> None:
    if report.ok:
        say_text(f"{title}: {report.rows:,} rows, no anomaly")
        return
    table = new_table(title, "anomaly", "column", "count", "examples")
    table.add_column("detail")
    for anomaly in report.anomalies:
        add_row(
            table,
            anomaly.kind,
            anomaly.column,
            f"{anomaly.count:,}",
            ", ".join(anomaly.examples),
            anomaly.message,
        )
    console().print(table)
    say_text(f"{len(report.anomalies)} anomalies in {report.rows:,} rows")
