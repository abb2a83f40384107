"""A view's PostgreSQL source is connected to as the reader: PGPASSWORD goes only to the host
PGHOST names (a definition's author chooses its URI, and would otherwise collect every
reader's password), and the query runs read-only."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import psycopg
import pytest

from gnomon.features.pg_source import connect

SECRET = "readers-own-password"


class Listener:
    """A server that asks every client for its password in clear text and keeps what it
    gets: what a definition's author would run at the host its URI names."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(5)
            length, code = struct.unpack("!ii", conn.recv(8))
            if code == 80877103:  # SSLRequest: no
                conn.sendall(b"N")
                length, code = struct.unpack("!ii", conn.recv(8))
            conn.recv(length - 8)  # the startup message's parameters
            conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
            try:
                while chunk := conn.recv(4096):
                    self.received += chunk
            except OSError:
                pass


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.sock.close()


def test_pgpassword_goes_to_no_host_but_pghost(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", SECRET)
    monkeypatch.setenv("PGHOST", "db.internal.example")
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    uri = f"postgresql://reader@127.0.0.1:{listener.port}/db?sslmode=disable&connect_timeout=3"
    with pytest.raises(psycopg.OperationalError):
        connect(uri)
    listener.thread.join(5)
    assert SECRET.encode() not in listener.received


def test_the_host_pghost_names_gets_the_password(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", SECRET)
    monkeypatch.setenv("PGHOST", "127.0.0.1")
    uri = f"postgresql://reader@127.0.0.1:{listener.port}/db?sslmode=disable&connect_timeout=3"
    with pytest.raises(psycopg.OperationalError):
        connect(uri)  # the listener never says "authenticated"
    listener.thread.join(5)
    assert SECRET.encode() in listener.received  # the narrowing is not a blanket refusal


def test_the_query_runs_read_only(postgres_uri: str) -> None:
    uri = postgres_uri.replace("postgresql+psycopg://", "postgresql://")
    with connect(uri) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("CREATE TABLE written_by_a_definition (a int)")
