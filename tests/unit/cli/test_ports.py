"""A server that could not listen fails in one line before printing or loading anything."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from gnomon.cli.ports import check_bindable
from gnomon.errors import Conflict, InvalidInput
from tests.fixtures.cli import invoke
from tests.fixtures.processes import free_port


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port another process listens on (uvicorn's SO_REUSEADDR does not help)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _in_use(port: int) -> str:
    return f"error: port {port} on 127.0.0.1 is already in use (choose another with --port)"


@pytest.mark.parametrize(
    "command",
    [
        ["server"],
        ["server", "--no-auth"],
        ["serve", "models:/churn@production"],  # no such model either: the port comes first
        ["server", "--workers", "2"],  # uvicorn's one shared socket
        ["serve", "models:/churn@production", "--workers", "2"],
    ],
)
def test_a_busy_port_is_one_line_before_anything_else(
    gnomon_home: Path, busy_port: int, command: list[str]
) -> None:
    result = invoke(*command, "--port", str(busy_port))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [_in_use(busy_port)]
    assert result.stdout == ""  # no "serving on", no one-time admin password
    assert not (gnomon_home / "gnomon.db").exists()  # the store was not even opened


def test_a_free_port_passes(busy_port: int) -> None:
    check_bindable("127.0.0.1", free_port())
    check_bindable("127.0.0.1", 0)  # any port: the system picks a free one
    with pytest.raises(Conflict, match=f"port {busy_port} on 127.0.0.1 is already in use"):
        check_bindable("127.0.0.1", busy_port)


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("no-such-host.invalid", "cannot listen on 'no-such-host.invalid'"),
        ("192.0.2.1", "not an address of this machine"),
    ],
)
def test_a_host_that_is_not_this_machine_is_named(host: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        check_bindable(host, free_port())


def _uvicorn_binds(host: str, port: int, workers: int) -> bool:
    """Whether uvicorn itself can listen there: its shared socket for several workers, or
    asyncio's ``create_server`` for one."""
    if workers > 1:
        config = uvicorn.Config("gnomon.server.app:app_from_environment", host, port, workers=2)
        try:
            config.bind_socket().close()
        except SystemExit:  # uvicorn logs the OSError and exits
            return False
        return True

    async def serve_once() -> None:
        server = await asyncio.get_running_loop().create_server(asyncio.Protocol, host, port)
        server.close()
        await server.wait_closed()

    try:
        asyncio.run(serve_once())
    except OSError:
        return False
    return True


def _check_passes(host: str, port: int, workers: int) -> bool:
    try:
        check_bindable(host, port, workers)
    except Conflict:
        return False
    return True


@pytest.mark.parametrize("workers", [1, 2])
def test_the_check_agrees_with_uvicorn_on_a_port_held_on_ipv4_only(workers: int) -> None:
    """'::' with several workers is one dual-stack socket: it needs the IPv4 port too."""
    try:
        socket.socket(socket.AF_INET6).close()
    except OSError:
        pytest.skip("no IPv6 on this machine")
    with socket.socket() as held:
        held.bind(("0.0.0.0", 0))
        held.listen()
        port = int(held.getsockname()[1])
        passes = _check_passes("::", port, workers)
        assert passes == _uvicorn_binds("::", port, workers)
        with socket.socket(socket.AF_INET6) as probe:
            dual_stack = probe.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 0
        assert passes is not (workers > 1 and dual_stack)
