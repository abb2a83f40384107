"""``gnomon predict``: batch inference over a Parquet or CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gnomon.cli.output import client_of, console, say, warn


def predict(
    ctx: typer.Context,
    uri: Annotated[
        str, typer.Argument(help="models:/name@alias, models:/name/3, runs:/id/path or a folder")
    ],
    input_path: Annotated[
        Path, typer.Option("--input", "-i", help="Parquet file, or CSV by its .csv suffix.")
    ],
    output_path: Annotated[
        Path, typer.Option("--output", help="Parquet file to write (local path).")
    ],
    chunk_rows: Annotated[int, typer.Option(min=1, help="Rows per chunk.")] = 50_000,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes; default every usable CPU.")
    ] = None,
    policy: Annotated[
        str, typer.Option(help="Contract violations: reject, warn or clip.")
    ] = "reject",
    keep: Annotated[
        list[str] | None,
        typer.Option("--keep", help="Input column to copy to the output (repeat); default all."),
    ] = None,
    proba: Annotated[
        bool, typer.Option("--proba", help="Add probability_<i> columns per class.")
    ] = False,
) -> None:
    """Predict on every row of a file and write the predictions, in order, to Parquet."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from gnomon.serving.batch import predict_file

    # Only registry and run URIs need the store; a model folder predicts without opening it.
    client = client_of(ctx) if uri.startswith(("models:/", "runs:/")) else None
    columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    out = console()
    # No bar in logs and pipes: it would only leave a blank line there.
    with Progress(*columns, console=out, transient=True, disable=not out.is_terminal) as progress:
        task = progress.add_task("predicting", total=None)

        def advanced(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        result = predict_file(
            uri,
            input_path,
            output_path,
            chunk_rows=chunk_rows,
            workers=workers,
            policy=policy,
            keep=keep,
            proba=proba,
            client=client,
            on_progress=advanced,
        )
    model = result.model_name or result.model_uri
    if result.model_version is not None:
        model += f" version {result.model_version}"
    say(
        f"wrote {result.rows:,} predictions by {model} to {result.output} "
        f"in {result.seconds:.1f}s ({result.rows_per_second:,.0f} rows/s)"
    )
    if result.violations:
        warn(f"{result.violations:,} contract violations predicted anyway")
