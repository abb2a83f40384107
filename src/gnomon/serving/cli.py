"""``gnomon serve``: a model as a REST microservice."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from gnomon.cli.output import say, state_of


def serve(
    ctx: typer.Context,
    uri: Annotated[str, typer.Argument(help="models:/name@alias, models:/name/3, runs:/id/path")],
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8080,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes; each loads the model.")
    ] = 1,
    deployment: Annotated[str | None, typer.Option(help="Name on prediction records.")] = None,
    policy: Annotated[
        str, typer.Option(help="Contract violations: reject, warn or clip.")
    ] = "reject",
    records: Annotated[bool, typer.Option(help="Record every prediction.")] = True,
    batching: Annotated[bool, typer.Option(help="Gather concurrent requests.")] = True,
    batch_max_rows: Annotated[int, typer.Option(min=1, max=100_000)] = 64,
    batch_wait_ms: Annotated[float, typer.Option(min=0, max=1000)] = 2.0,
) -> None:
    """Serve a model: POST /predict and /invocations, GET /schema, /healthz, /readyz, /metrics."""
    import uvicorn

    from gnomon.serving.enforce import Policy
    from gnomon.serving.loading import SERVE_ENV, ServeOptions, load_served

    if policy not in {p.value for p in Policy}:  # fail here, before any worker starts
        from gnomon.errors import InvalidInput

        raise InvalidInput(f"unknown policy {policy!r}: use reject, warn or clip")
    options = ServeOptions(
        uri, deployment, policy, records, batch_max_rows, batch_wait_ms, batching
    )
    settings = state_of(ctx).settings
    served = load_served(options, settings)  # fail fast: unknown model, tampered file
    os.environ[SERVE_ENV] = options.to_env()
    say(
        f"serving {served.name} version {served.version} ({served.model.flavor}) "
        f"on http://{host}:{port} with {workers} worker(s)"
    )
    uvicorn.run(
        "gnomon.serving.loading:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
    )
