"""``gnomon data ingest``: a version gathered from PostgreSQL, S3, local files or DuckDB.

Registered at the end of ``data/cli.py``; psycopg, DuckDB and PyArrow load only when it runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from gnomon.cli.output import OutputFormat, OutputOption, format_size, print_json
from gnomon.data.cli_common import add_json, datasets_of, say_text
from gnomon.progress import progress_bar


def ingest(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The dataset's name.")],
    source: Annotated[
        str,
        typer.Option(
            "--from",
            help="postgresql://user@host:port/db, s3://bucket/path, a local file or folder "
            "of Parquet and CSV files, or duckdb.",
        ),
    ],
    table: Annotated[
        str | None, typer.Option("--table", help="A PostgreSQL table: NAME or SCHEMA.NAME.")
    ] = None,
    query: Annotated[
        str | None,
        typer.Option("--query", "-q", help="SQL for PostgreSQL or DuckDB; give it an ORDER BY."),
    ] = None,
    message: Annotated[str, typer.Option("--message", "-m", help="What changed.")] = "",
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Version a table, a query's result, or Parquet and CSV files; an unchanged source
    makes no new version."""
    from gnomon.data.ingest import parse_source

    is_query = parse_source(source, table, query).is_query  # bad input fails before any bar
    label, unit = ("writing rows", "rows") if is_query else ("copying files", "bytes")
    with progress_bar(label, unit=unit) as advance:
        result = datasets_of(ctx).ingest(
            name, source, table=table, query=query, message=message, on_progress=advance
        )
    version = result.version
    if output is OutputFormat.JSON:
        print_json({**add_json(result), "source": version.source})
    elif result.created:
        rows = f"{int(version.source['rows']):,} rows, " if "rows" in version.source else ""
        say_text(
            f"{version.ref}: {rows}{version.files:,} files, {format_size(version.bytes)} "
            f"from {version.source.get('kind', 'a source')}"
        )
    else:
        say_text(f"unchanged: {version.ref} already holds this content")
