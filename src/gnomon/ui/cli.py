"""``gnomon ui``: the web UI over the embedded store, on loopback, without a login."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from gnomon.cli.output import say, state_of
from gnomon.cli.ports import check_bindable
from gnomon.errors import InvalidInput


def ui(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Loopback address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to bind.")] = 5000,
) -> None:
    """Open the web UI on this machine: everyone who can reach it is an administrator, so it
    binds only a loopback address (use ``gnomon server`` to share it, with logins)."""
    import uvicorn

    from gnomon.backends import open_services
    from gnomon.logs.setup import logging_config
    from gnomon.server.app import NO_AUTH_ENV
    from gnomon.server.loopback import is_loopback

    if not is_loopback(host):
        raise InvalidInput(f"gnomon ui has no login: bind to 127.0.0.1, not {host}")
    settings = state_of(ctx).settings
    check_bindable(host, port, 1)
    services = open_services(settings)  # the store is made and upgraded before the first page
    if services.auth is None:
        raise InvalidInput("gnomon ui reads an embedded store; for a server, open its own UI")
    os.environ[NO_AUTH_ENV] = "1"
    say(f"gnomon UI on http://{host}:{port}/ (Ctrl+C stops it)")
    uvicorn.run(
        "gnomon.server.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        log_config=logging_config(settings, "ui"),  # gnomon's lines; gnomon.access has requests
        log_level=None,
        access_log=False,
    )
