"""An unexpected exception anywhere in a request is answered with the 500 error body, and the
client keeps its keep-alive connection (uvicorn drops it when an exception escapes the app)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from gnomon.backends import open_services
from gnomon.server.app import create_app
from tests.fixtures.server import run_uvicorn, server_settings


def _fail() -> None:
    raise RuntimeError("secret internals: /etc/gnomon.conf")


def _fail_any(*_: Any, **__: Any) -> None:
    _fail()


def _test_routes(app: FastAPI, missing: Path) -> None:
    """Routes that fail in each place a request can: handler, dependency, response, after."""
    app.add_api_route("/test/handler", _fail)
    app.add_api_route("/test/dependency", lambda: {}, dependencies=[Depends(_fail)])
    app.add_api_route("/test/file", lambda: FileResponse(missing))  # fails before it starts
    app.add_api_route("/test/after", lambda: JSONResponse({}, background=BackgroundTask(_fail)))

    def cut_off() -> Iterator[bytes]:
        yield b"first part"
        _fail()

    app.add_api_route("/test/cut-off", lambda: StreamingResponse(cut_off()))


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("keepalive")
    settings = server_settings(f"sqlite:///{home / 'gnomon.db'}", home)
    services = open_services(settings)
    app = create_app(settings, services, no_auth=True)
    _test_routes(app, home / "no-such-file")
    with pytest.MonkeyPatch.context() as patch:
        # A real route whose service fails unexpectedly.
        patch.setattr(services.tracking, "list_experiments", _fail_any)
        with run_uvicorn(app) as base:
            yield base


def _port(response: httpx.Response) -> int:
    port: int = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    return port


@pytest.mark.parametrize(
    "path", ["/test/handler", "/test/dependency", "/test/file", "/api/v1/experiments"]
)
def test_a_500_keeps_the_connection(url: str, path: str, caplog: pytest.LogCaptureFixture) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with httpx.Client(base_url=url, limits=limits) as http:
        first = http.get("/healthz")
        ports = [_port(first)]
        with caplog.at_level(logging.ERROR, logger="gnomon.server"):
            failed = http.get(path, headers={"X-Request-ID": "req-500"})
        ports.append(_port(failed))
        after = http.get("/healthz")
        ports.append(_port(after))
    assert failed.status_code == 500
    error = failed.json()["error"]
    assert error["code"] == "internal" and error["details"] == {"request_id": "req-500"}
    assert "req-500" in error["message"]
    assert "secret" not in failed.text and "Traceback" not in failed.text
    logged = [r for r in caplog.records if r.exc_info and "req-500" in r.getMessage()]
    assert logged and isinstance(logged[0].exc_info[1], RuntimeError)  # type: ignore[index]
    assert after.status_code == 200
    assert ports[0] == ports[1] == ports[2], "the connection was not reused"


def test_a_failure_after_the_response_keeps_the_connection(url: str) -> None:
    with httpx.Client(base_url=url) as http:
        answered = http.get("/test/after")  # its background task fails once it is sent
        port = _port(answered)
        after = http.get("/healthz")
        assert _port(after) == port, "the connection was not reused"
    assert answered.status_code == 200


def test_a_response_cut_off_midway_is_never_taken_as_whole(url: str) -> None:
    # The status line is already out: ending the connection is the only honest answer.
    with httpx.Client(base_url=url) as http, pytest.raises(httpx.RemoteProtocolError):
        http.get("/test/cut-off")
