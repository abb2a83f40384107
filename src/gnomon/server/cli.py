"""``gnomon server``: run the REST API under uvicorn."""

from __future__ import annotations

import os
import threading
from typing import Annotated, Any

import typer

from gnomon.cli.output import ForwardedAllowIps, say, state_of
from gnomon.cli.ports import check_bindable
from gnomon.errors import InvalidInput


def server(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to bind.")] = 5000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    ssl_certfile: Annotated[str | None, typer.Option(help="TLS certificate (PEM).")] = None,
    ssl_keyfile: Annotated[str | None, typer.Option(help="TLS private key (PEM).")] = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Everyone is an administrator (loopback only).")
    ] = False,
    forwarded_allow_ips: ForwardedAllowIps = None,
    monitors: Annotated[
        bool,
        typer.Option(help="Run scheduled monitors in this server (--no-monitors: gnomon worker)."),
    ] = True,
) -> None:
    """Serve the REST API (/api/v1), /docs, /healthz, /readyz and /metrics."""
    import uvicorn

    from gnomon.backends import open_services
    from gnomon.logs.setup import logging_config
    from gnomon.server.app import NO_AUTH_ENV
    from gnomon.server.loopback import is_loopback
    from gnomon.web.prometheus import shared_across
    from gnomon.web.proxy import proxy_options

    settings = state_of(ctx).settings
    if no_auth and not is_loopback(host):
        raise InvalidInput(
            f"--no-auth serves everyone as an administrator: bind to 127.0.0.1, not {host}"
        )
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise InvalidInput("give both --ssl-certfile and --ssl-keyfile, or neither")
    if monitors:  # a broken operator's file fails the start, not the first alert
        from gnomon.monitoring.operator import operator_channels

        operator_channels(settings)
    # Before the store is opened and the one-time admin password printed: shown, then lost.
    check_bindable(host, port, workers)
    if forwarded_allow_ips is None:
        forwarded_allow_ips = settings.forwarded_allow_ips
    proxy = proxy_options(forwarded_allow_ips)
    services = open_services(settings)
    if services.auth is None:
        raise InvalidInput("the server needs a SQL metadata store: GNOMON_URI is a server URL")
    if not no_auth:
        password = services.auth.bootstrap_admin(settings.admin_password)
        if password is not None:
            # Shown once; only its hash is stored.
            say(f"created administrator 'admin' with one-time password: {password}")
    os.environ[NO_AUTH_ENV] = "1" if no_auth else "0"
    scheme = "https" if ssl_certfile else "http"
    say(f"gnomon server on {scheme}://{host}:{port} ({workers} worker(s))")
    stop = _run_monitors(services) if monitors else None
    with shared_across(workers):  # /metrics sums every worker's counts
        uvicorn.run(
            "gnomon.server.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            # gnomon's own lines (each worker configures itself from it); the access line is
            # gnomon.access's, with the request id, user and workspace uvicorn's would lack.
            log_config=logging_config(settings, "server"),
            log_level=None,
            access_log=False,
            **proxy,
        )
    if stop is not None:
        stop.set()


def _run_monitors(services: Any) -> threading.Event:
    """Scheduled monitors in a thread of the supervising process (one per server, whatever
    the workers), as the API server would run them: webhooks kept out of its network."""
    from gnomon.monitoring.service import MonitorService
    from gnomon.worker.loop import run_forever

    stop = threading.Event()
    monitors = services.for_server().get(MonitorService)
    thread = threading.Thread(
        target=run_forever, args=(monitors, 30.0, stop), name="gnomon-monitors", daemon=True
    )
    thread.start()
    return stop
