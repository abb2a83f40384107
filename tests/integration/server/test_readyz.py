"""/readyz needs no login, so its 503 names the unready component and nothing else: no URI,
host, bucket, path or driver message. Those go to the server log."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gnomon.backends import open_services
from gnomon.server.app import create_app
from gnomon.store.database import Database
from tests.fixtures.server import run_uvicorn, server_settings


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


@contextmanager
def _server(home: Path, database: str | None = None, **settings: Any) -> Iterator[str]:
    config = server_settings(f"sqlite:///{home / 'gnomon.db'}", home)
    config = config.model_copy(update=settings)
    app = create_app(config, open_services(config), no_auth=True)
    if database is not None:
        app.state.database = Database(database)
    with run_uvicorn(app) as url:
        yield url


def _unready(url: str, *secrets: str) -> list[str]:
    """The components a 503 from /readyz names; asserts it names no secret."""
    response = httpx.get(f"{url}/readyz", timeout=30)
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "unavailable"
    for secret in secrets:
        assert secret not in response.text, f"{secret!r} leaked in {response.text}"
    assert "Traceback" not in response.text
    unready: list[str] = error["details"]["unready"]
    return unready


def test_ready_when_everything_answers(tmp_path: Path) -> None:
    with _server(tmp_path) as url:
        assert httpx.get(f"{url}/readyz").json() == {"status": "ready"}


def test_unreachable_s3_endpoint_names_only_the_artifact_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",  # fail in one try, not after botocore's retries
    }.items():
        monkeypatch.setenv(name, value)
    port = _closed_port()
    endpoint = f"http://127.0.0.1:{port}"
    root = "s3://private-bucket-name/artifacts"
    with (
        _server(tmp_path, artifacts=root, s3_endpoint_url=endpoint) as url,
        caplog.at_level(logging.WARNING, logger="gnomon.server"),
    ):
        unready = _unready(url, "private-bucket-name", "127.0.0.1", str(port), "s3://")
    assert unready == ["artifact store"]
    logged = "\n".join(r.getMessage() + str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    assert str(port) in logged  # the operator still learns what failed


@pytest.mark.parametrize("where", ["root is a file", "root is under a file"])
def test_unwritable_artifact_root_names_only_the_artifact_store(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "private-folder-name"
    blocker.write_text("not a folder")
    root = blocker if where == "root is a file" else blocker / "artifacts"
    with _server(tmp_path, artifacts=str(root)) as url:
        assert _unready(url, "private-folder-name", str(tmp_path)) == ["artifact store"]


def test_broken_database_names_only_the_database(tmp_path: Path) -> None:
    port = _closed_port()
    database = f"postgresql://postgres@127.0.0.1:{port}/private_db_name"
    with _server(tmp_path, database=database) as url:
        unready = _unready(url, "private_db_name", "127.0.0.1", str(port), "postgres")
    assert unready == ["database"]


def test_everything_broken_names_both(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    database = f"postgresql://postgres@127.0.0.1:{_closed_port()}/private_db_name"
    with _server(tmp_path, database=database, artifacts=str(tmp_path / "file")) as url:
        assert _unready(url, "private_db_name", str(tmp_path)) == ["database", "artifact store"]
