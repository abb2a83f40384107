"""Running an ASGI app under a real uvicorn in a background thread (demos, tests, notebooks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from gnomon.errors import Unavailable


@contextmanager
def run_in_thread(
    app: Any, lifespan: Literal["auto", "on", "off"] = "on", **options: Any
) -> Iterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1; yields the base URL, stops on exit.

    As the API server does, no peer's ``X-Forwarded-For`` is believed unless ``options``
    say so (``proxy_headers=True, forwarded_allow_ips=...``).
    """
    import uvicorn

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan=lifespan,
        timeout_graceful_shutdown=1,
        **{"proxy_headers": False, **options},
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="gnomon-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise Unavailable("the local server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    scheme = "https" if options.get("ssl_certfile") else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
