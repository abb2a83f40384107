"""When its database or artifact store fails, a real server answers 503 saying what is
unavailable, and nothing internal: no host, port, database, user, bucket, endpoint or local
path reaches the caller. The details go to the server log."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from gnomon.config import Settings
from tests.fixtures.processes import free_port
from tests.fixtures.server import serve

API = "/api/v1"


class Relay:
    """A TCP relay on 127.0.0.1 to ``upstream``; ``cut()`` drops every connection and stops
    listening, as a database host going away would."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        for sock in [self._listener, *self._sockets]:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # cut
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def _settings(home: Path, **values: Any) -> Settings:
    values.setdefault("uri", f"sqlite:///{home / 'gnomon.db'}")
    values.setdefault("artifacts", str(home / "artifacts"))
    return Settings(home=home, **values)


@contextmanager
def _client(settings: Settings) -> Iterator[httpx.Client]:
    with serve(settings, no_auth=True) as live, httpx.Client(base_url=live.url) as http:
        yield http


def _run(http: httpx.Client) -> str:
    experiment = http.post(f"{API}/experiments", json={"name": f"outage-{uuid.uuid4().hex}"})
    run = http.post(f"{API}/runs", json={"experiment_id": experiment.json()["id"]})
    run_id: str = run.json()["id"]
    return run_id


def _unavailable(response: httpx.Response, what: str, *secrets: str) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"] == {"code": "unavailable", "message": what, "details": {}}
    for secret in secrets:
        assert secret not in response.text, f"{secret!r} leaked in {response.text}"


@pytest.mark.postgres
def test_a_lost_database_is_503_naming_nothing_internal(
    postgres_uri: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = urlsplit(postgres_uri)
    relay = Relay((target.hostname or "127.0.0.1", target.port or 5432))
    uri = postgres_uri.replace(target.netloc, f"{target.username}@127.0.0.1:{relay.port}")
    database = target.path.lstrip("/")
    secrets = ["127.0.0.1", str(relay.port), database, "postgres", "psycopg", "connection"]
    with _client(_settings(tmp_path, uri=uri)) as http, caplog.at_level(logging.WARNING):
        run_id = _run(http)  # works while the database answers
        relay.cut()
        for response in [
            http.get(f"{API}/experiments"),
            http.get(f"{API}/runs/{run_id}"),
            http.post(f"{API}/experiments", json={"name": "after-the-cut"}),
        ]:
            _unavailable(response, "the metadata database is unavailable", *secrets)
    assert str(relay.port) in caplog.text  # the operator still learns what failed


@pytest.mark.s3
def test_an_unreachable_s3_endpoint_is_503_naming_nothing_internal(
    tmp_path: Path, s3_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # fail in one try, not after retries
    port = free_port()
    settings = _settings(
        tmp_path,
        artifacts="s3://private-bucket-name/artifacts",
        s3_endpoint_url=f"http://127.0.0.1:{port}",
    )
    secrets = ["private-bucket-name", "127.0.0.1", str(port), "s3://", "endpoint"]
    with _client(settings) as http:
        run_id = _run(http)
        for response in [
            http.put(f"{API}/runs/{run_id}/artifacts/model.bin", content=b"weights"),
            http.get(f"{API}/runs/{run_id}/artifacts/model.bin"),
            http.get(f"{API}/runs/{run_id}/artifacts"),
        ]:
            _unavailable(response, "the artifact store is unavailable", *secrets)


@pytest.mark.s3
def test_a_missing_bucket_is_503_and_not_ready_naming_nothing_internal(
    tmp_path: Path, s3_server: str
) -> None:
    bucket = f"missing-{uuid.uuid4().hex[:12]}"
    settings = _settings(tmp_path, artifacts=f"s3://{bucket}/artifacts", s3_endpoint_url=s3_server)
    secrets = [bucket, urlsplit(s3_server).netloc, "s3://"]
    with _client(settings) as http:
        run_id = _run(http)
        upload = http.put(f"{API}/runs/{run_id}/artifacts/model.bin", content=b"weights")
        _unavailable(upload, "the artifact store is unavailable", *secrets)
        ready = http.get("/readyz")  # listing a missing bucket finds nothing: not "ready"
        assert ready.status_code == 503
        assert ready.json()["error"]["details"] == {"unready": ["artifact store"]}
        for secret in secrets:
            assert secret not in ready.text


def test_an_unusable_local_artifact_root_is_503_without_its_path(tmp_path: Path) -> None:
    blocker = tmp_path / "private-folder-name"
    blocker.write_text("a file where the artifact root's parent should be")
    settings = _settings(tmp_path, artifacts=str(blocker / "artifacts"))
    with _client(settings) as http:
        run_id = _run(http)
        upload = http.put(f"{API}/runs/{run_id}/artifacts/model.bin", content=b"weights")
        _unavailable(upload, "the artifact store is unavailable", "private-folder-name", "/tmp")
