"""``gnomon data profile``: a table version's profile, as a table, JSON or an HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    console,
    format_size,
    new_table,
    print_json,
)
from gnomon.data.cli_common import add_row, datasets_of, say_text


def profile(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="A table version, NAME@VERSION or NAME.")],
    compare: Annotated[
        str | None, typer.Option("--compare", help="Another version to overlay: NAME@OTHER.")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Statistics, histograms, top values, missing values and correlations of a version."""
    datasets = datasets_of(ctx)
    if html is not None:
        page = datasets.profile_html(ref, compare)
        html.write_text(page, encoding="utf-8")
        if output is not OutputFormat.JSON:
            say_text(f"wrote {html} ({format_size(len(page.encode()))})")
    if output is OutputFormat.JSON:
        found = datasets.profile(ref)
        print_json(
            found if compare is None else {"profile": found, "compare": datasets.profile(compare)}
        )
    elif html is None:
        for each in (ref, compare) if compare else (ref,):
            _print_profile(datasets.profile(each))


def _print_profile(found: dict[str, Any]) -> None:
    table = new_table(f"{found['ref']}: {found['rows']:,} rows", "column", "type", "missing")
    for heading in ("distinct", "mean", "std", "min", "max", "most frequent"):
        table.add_column(heading)
    for column in found["columns"]:
        top = column.get("top") or []
        add_row(
            table,
            column["name"],
            column["type"],
            f"{column['missing']:,} ({column['missing_fraction']:.1%})",
            f"{column.get('distinct', 0):,}",
            *(_figure(column.get(key)) for key in ("mean", "std", "min", "max")),
            f"{top[0]['value']} ({top[0]['count']:,})" if top else MISSING,
        )
    console().print(table)


def _figure(value: object) -> str:
    if value is None:
        return MISSING
    return f"{value:.6g}" if isinstance(value, float) else str(value)
