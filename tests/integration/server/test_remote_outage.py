"""Remote logging through a server outage: nothing ``log_*`` accepted is lost or doubled
while the server is away for less than GNOMON_RETRY_WINDOW_SECONDS; a loss past it is loud
and the run never ends FINISHED (docs/tracking.md, "Outages")."""

from __future__ import annotations

import logging
import re
import socket
import stat
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
import uvicorn

import gnomon
from gnomon.backends import open_services
from gnomon.errors import Conflict, Unavailable
from gnomon.server.app import create_app
from gnomon.tracking.entities import Metric, RunStatus
from tests.fixtures.server import server_settings

DATA_LOST = "gnomon.data_lost"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class Faults:
    """In front of the gnomon app: answers the next ``POST …/batch`` requests as scripted.

    ``"429"`` refuses one with 429 and ``Retry-After: 0``; ``"lost-answer"`` lets the server
    commit it, then answers 502 as a proxy that lost the server's answer would.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.script: list[str] = []
        self.batches = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        is_batch = scope["type"] == "http" and scope["path"].endswith("/batch")
        fault = None
        if is_batch and scope["method"] == "POST":
            self.batches += 1
            fault = self.script.pop(0) if self.script else None
        if fault == "429":
            await _answer(send, 429, [(b"retry-after", b"0")])
        elif fault == "lost-answer":

            async def swallow(message: MutableMapping[str, Any]) -> None:
                pass

            await self.app(scope, receive, swallow)
            await _answer(send, 502, [])
        else:
            await self.app(scope, receive, send)


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


class Server:
    """The gnomon API on one fixed port of 127.0.0.1, stopped and started again over the
    same database, as an operator restarting it would."""

    def __init__(self, uri: str, home: Path) -> None:
        self.settings = server_settings(uri, home)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.faults: Faults | None = None
        self._stop: Callable[[], None] | None = None

    def start(self) -> None:
        self.faults = Faults(create_app(self.settings, open_services(self.settings), no_auth=True))
        config = uvicorn.Config(
            self.faults,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="outage-uvicorn", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)

        def stop() -> None:
            server.should_exit = True
            thread.join(timeout=10)

        self._stop = stop

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server(gnomon_home: Path, tmp_path: Path, sqlite_uri: str) -> Iterator[Server]:
    live = Server(sqlite_uri, tmp_path / "server")
    live.start()
    yield live
    live.stop()


def use(server: Server, monkeypatch: pytest.MonkeyPatch, **settings: object) -> None:
    """Point the SDK at ``server``, with short retry pauses (and ``settings``)."""
    env = {
        "URI": server.url,
        "FLUSH_INTERVAL": 0.05,
        "CAPTURE_ENVIRONMENT": "false",
        "RETRY_BACKOFF_SECONDS": 0.05,
        "RETRY_BACKOFF_MAX_SECONDS": 0.2,
        **{k.upper(): v for k, v in settings.items()},
    }
    for name, value in env.items():
        monkeypatch.setenv(f"GNOMON_{name}", str(value))


def _steps(run_id: str, key: str) -> list[int]:
    return [m.step for m in gnomon.Client().get_metric_history(run_id, key)]


def test_an_outage_longer_than_the_old_retries_loses_and_doubles_nothing(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gnomon")
    use(server, monkeypatch, retry_window_seconds=60)
    with gnomon.start_run(name="through-outage") as run:
        gnomon.log_param("lr", 0.1)
        for step in range(10):
            gnomon.log_metric("loss", 1 / (step + 1), step=step)
        gnomon.flush()
        server.stop()  # for 4 s: the transport alone gave up after about 3 s
        for step in range(10, 30):
            gnomon.log_metric("loss", 1 / (step + 1), step=step)
            time.sleep(0.2)
        gnomon.log_param("lr", 0.1)  # the same value again, as a replay would send it
        gnomon.set_tag("phase", "outage")
        server.start()
        for step in range(30, 40):
            gnomon.log_metric("loss", 1 / (step + 1), step=step)
    assert "retrying for up to 60 s" in caplog.text  # the outage was real
    stored = gnomon.Client().get_run(run.id)
    assert stored.status is RunStatus.FINISHED
    assert _steps(run.id, "loss") == list(range(40))  # each point once, none missing
    assert stored.params == {"lr": "0.1"} and stored.tags["phase"] == "outage"
    assert DATA_LOST not in stored.tags


def test_past_the_window_the_loss_is_loud_and_the_run_is_not_finished(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    use(server, monkeypatch, retry_window_seconds=1)
    run = gnomon.start_run(name="lost")
    gnomon.log_metric("loss", 1.0, step=0)
    gnomon.flush()
    server.stop()
    for step in range(1, 6):
        gnomon.log_metric("loss", 1.0, step=step)
    with pytest.raises(Unavailable, match=f"lost \\(5 of run '{run.id}'\\)") as lost:
        gnomon.flush()
    assert lost.value.details == {"lost": {run.id: 5}}
    logged = re.findall(rf"LOST (\d+) logged values \(.*\) of run '{run.id}'", caplog.text)
    assert sum(map(int, logged)) == 5  # one error per give-up (a slow machine may need two)
    server.start()
    with pytest.warns(RuntimeWarning, match=f"5 logged values .* of run '{run.id}' were lost"):
        gnomon.end_run()
    stored = gnomon.Client().get_run(run.id)
    assert stored.status is RunStatus.FAILED
    assert stored.tags[DATA_LOST] == "5"
    assert _steps(run.id, "loss") == [0]


def test_a_run_that_lost_data_and_cannot_be_reached_stays_running(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(server, monkeypatch, retry_window_seconds=0.5)
    run = gnomon.start_run(name="unreachable-end")
    gnomon.log_metric("loss", 1.0)
    gnomon.flush()
    server.stop()
    gnomon.log_metric("loss", 2.0, step=1)
    with (
        pytest.warns(RuntimeWarning, match="1 logged values"),
        pytest.raises(Unavailable, match="cannot reach"),
    ):
        gnomon.end_run()
    server.start()
    assert gnomon.Client().get_run(run.id).status is RunStatus.RUNNING  # never FINISHED


def test_past_the_memory_bound_values_spill_to_a_private_file_and_all_arrive(
    server: Server, monkeypatch: pytest.MonkeyPatch, gnomon_home: Path
) -> None:
    use(server, monkeypatch, retry_window_seconds=60, buffer_max_items=5)
    with gnomon.start_run(name="spilled") as run:
        gnomon.flush()
        server.stop()
        for step in range(200):
            gnomon.log_metric("loss", float(step), step=step)
        spilled = list((gnomon_home / "spill").glob("*.jsonl"))
        assert len(spilled) == 1
        assert stat.S_IMODE(spilled[0].stat().st_mode) == 0o600
        assert len(spilled[0].read_text().splitlines()) >= 10  # most of the 200 are there
        server.start()
    assert _steps(run.id, "loss") == list(range(200))
    assert gnomon.Client().get_run(run.id).status is RunStatus.FINISHED
    assert not spilled[0].exists()  # drained, then removed


def test_a_batch_whose_answer_was_lost_is_not_stored_twice(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(server, monkeypatch)
    client = gnomon.Client()
    run = client.create_run(client.create_experiment("replays").id)
    assert server.faults is not None
    server.faults.script = ["lost-answer", "lost-answer"]
    points = [Metric("acc", 0.5, step, 1000 + step) for step in range(3)]
    client.log_batch(run.id, metrics=points, params={"depth": 8}, tags={"t": "v"})
    assert server.faults.batches == 3  # committed twice unseen, then answered
    with gnomon.start_run(run_id=run.id):
        server.faults.script = ["lost-answer"]
        gnomon.log_metric("acc", 0.5, step=3, timestamp=1003)
    history = client.get_metric_history(run.id, "acc")
    assert [(m.step, m.timestamp) for m in history] == [(s, 1000 + s) for s in range(4)]
    assert client.get_run(run.id).params == {"depth": "8"}


def test_429_is_retried_and_a_4xx_is_not(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    use(server, monkeypatch)
    assert server.faults is not None
    with gnomon.start_run(name="throttled") as run:
        server.faults.script = ["429", "429"]
        gnomon.log_metric("loss", 1.0)
        gnomon.flush()
    assert _steps(run.id, "loss") == [0]
    assert server.faults.batches == 3

    run = gnomon.start_run(name="ended-elsewhere")
    gnomon.Client().end_run(run.id)
    before = server.faults.batches
    gnomon.log_metric("late", 1.0)
    with pytest.raises(Conflict, match="FINISHED"):
        gnomon.flush()
    assert server.faults.batches == before + 1  # refused once, never retried
    gnomon.end_run()


@pytest.mark.postgres
def test_replayed_points_are_not_doubled_on_postgres(
    postgres_uri: str, tmp_path: Path, gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = Server(postgres_uri, tmp_path / "server")
    live.start()
    try:
        use(live, monkeypatch)
        client = gnomon.Client()
        run = client.create_run(client.create_experiment(f"replays-{tmp_path.name}").id)
        assert live.faults is not None
        live.faults.script = ["lost-answer"]
        points = [Metric("acc", float("nan"), 0, 7), Metric("acc", 0.25, 1, 8)]
        client.log_batch(run.id, metrics=points)
        history = client.get_metric_history(run.id, "acc")
        assert [(m.step, m.timestamp) for m in history] == [(0, 7), (1, 8)]
    finally:
        live.stop()
