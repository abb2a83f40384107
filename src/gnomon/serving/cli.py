"""``gnomon serve``: a model, or a deployment's routing between versions, as a REST service."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gnomon.cli.output import ForwardedAllowIps, say, state_of
from gnomon.cli.ports import check_bindable

if TYPE_CHECKING:
    from gnomon.serving.routing import RouteTable

_WORKER_START_S = 120


def serve(
    ctx: typer.Context,
    uri: Annotated[
        str | None,
        typer.Argument(help="models:/name@alias, models:/name/3, runs:/id/path or a folder"),
    ] = None,
    deployment: Annotated[
        str | None,
        typer.Option(help="Serve this deployment instead of one model (see gnomon deploy)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8080,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes; each loads the model.")
    ] = 1,
    policy: Annotated[
        str, typer.Option(help="Contract violations: reject, warn or clip (a deployment's own).")
    ] = "reject",
    records: Annotated[bool, typer.Option(help="Record every prediction.")] = True,
    batching: Annotated[
        bool | None,
        typer.Option(help="Gather concurrent requests (default: unless the model declines)."),
    ] = None,
    batch_max_rows: Annotated[int, typer.Option(min=1, max=100_000)] = 64,
    batch_wait_ms: Annotated[float, typer.Option(min=0, max=1000)] = 2.0,
    model_name: Annotated[
        str | None, typer.Option(help="Name answers and records give a served folder.")
    ] = None,
    model_version: Annotated[
        int | None, typer.Option(min=1, help="Version answers and records give a served folder.")
    ] = None,
    poll_seconds: Annotated[
        float, typer.Option(min=0.1, max=3600, help="How often a deployment's routing is read.")
    ] = 2.0,
    forwarded_allow_ips: ForwardedAllowIps = None,
    feature_service: Annotated[
        str | None,
        typer.Option(help="Add this feature service's online values to requests by entity key."),
    ] = None,
) -> None:
    """Serve a model: POST /predict, /invocations and /outcomes; GET /schema, /healthz,
    /readyz, /metrics, and MLflow's /ping, /health and /version. `kill -HUP` restarts the
    workers one by one without dropping a request; `kill -TERM` stops after writing every
    queued prediction record."""
    import uvicorn

    from gnomon.errors import InvalidInput
    from gnomon.logs.setup import logging_config
    from gnomon.serving.drain import SHUTDOWN_S
    from gnomon.serving.enforce import Policy
    from gnomon.serving.loading import SERVE_ENV, ServeOptions, build_app, load_routes
    from gnomon.web.prometheus import shared_across
    from gnomon.web.proxy import proxy_options

    if policy not in {p.value for p in Policy}:  # fail here, before any worker starts
        raise InvalidInput(f"unknown policy {policy!r}: use reject, warn or clip")
    check_bindable(host, port, workers)  # before loading a model that may take minutes
    settings = state_of(ctx).settings
    if forwarded_allow_ips is None:
        forwarded_allow_ips = settings.forwarded_allow_ips
    proxy = proxy_options(forwarded_allow_ips)
    options = ServeOptions(
        uri,
        deployment,
        policy,
        records,
        batch_max_rows,
        batch_wait_ms,
        batching,
        poll_seconds,
        model_name,
        model_version,
        settings.workspace,
        feature_service,
    )
    # Fail fast, in this process: an unknown model or deployment, a tampered file.
    routes = load_routes(options, settings)
    what = _describe(routes.table, one_model=deployment is None)
    say(f"serving {what} on http://{host}:{port} with {workers} worker(s)")
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        # gnomon's lines, in every worker; the access line is gnomon.access's (request ids).
        "log_config": logging_config(settings, "serve"),
        "log_level": None,
        "access_log": False,
        "timeout_graceful_shutdown": SHUTDOWN_S,
        **proxy,
    }
    if workers == 1:  # uvicorn serves in this process: serve what is loaded already
        uvicorn.run(build_app(options, settings, routes), **common)
        return
    del routes  # each worker loads its own; this process only supervises them
    os.environ[SERVE_ENV] = options.to_env()
    with shared_across(workers):  # /metrics sums every worker's counts
        uvicorn.run(
            "gnomon.serving.loading:app_from_environment",
            factory=True,
            workers=workers,
            # A restarted worker must load its models before it takes over from the old one;
            # uvicorn's default of 5 s aborts the restart for any model of a real size.
            timeout_worker_healthcheck=_WORKER_START_S,
            **common,
        )


def _describe(table: RouteTable, one_model: bool) -> str:
    if one_model:
        arm = table.primary
        return f"{arm.name} version {arm.version} ({arm.model.flavor})"
    arms = ", ".join(f"{a.role} {a.name}/{a.version} ({a.weight}%)" for a in table.live)
    what = f"deployment {table.deployment} revision {table.revision}: {arms}"
    if table.shadows:
        what += ", shadow " + ", ".join(f"{a.name}/{a.version}" for a in table.shadows)
    return what
