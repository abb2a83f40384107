"""What an attacker's review of monitoring tried through a real server, each now refused or
harmless: the operator's mail login sent to a client's server, deliveries into the server's
network, a restricted dataset seen through a monitor, commands that cannot tell workspaces
apart, unbounded references, columns named twice, and a failing monitor run every round."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from gnomon._types import Scope
from gnomon.checks import MAX_MILLIS
from gnomon.errors import InvalidInput
from tests.fixtures.monitoring import HOUR, Served, frame
from tests.fixtures.monitoring_server import Env, make_env


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope.content)
        return "250 OK"


class _Loopback(Controller):  # type: ignore[misc]
    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = _Loopback(box, hostname="127.0.0.1", port=0)
    controller.start()
    yield box, controller.port
    controller.stop()


def _monitor_with_rule(env: Env, channel: str, **spec: Any) -> None:
    made = env.call(
        "editor",
        "POST",
        "/monitors",
        json={"name": "m", "spec": {"deployment": "web", "window_s": 3600, **spec}},
    )
    assert made.status_code == 201, made.text
    rule = {"figure": "rows", "op": ">", "threshold": 0, "channels": [channel]}
    assert env.call("editor", "PUT", "/monitors/m/rules/r", json=rule).status_code == 200


def _run(env: Env) -> None:
    ran = env.call(
        "editor", "POST", "/monitors/m/run", json={"until_ms": env.served.base_ms + HOUR}
    )
    assert ran.status_code == 200, ran.text


def _smtp(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "smtp",
        "name": "mail",
        "host": "127.0.0.1",
        "port": port,
        "sender": "a@example.com",
        "recipients": ["b@example.com"],
        **extra,
    }


def test_a_client_cannot_define_a_mail_login(monitoring_env: Env) -> None:
    spec = _smtp(25, username="me", password_env="GNOMON_SMTP_PASSWORD")
    answer = monitoring_env.call("admin", "PUT", "/alert-channels", json={"spec": spec})
    assert answer.status_code == 422 and "operator" in answer.json()["error"]["message"]


def test_a_servers_mail_does_not_reach_its_own_network(
    monitoring_env: Env, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    env = monitoring_env
    env.served.write(frame(50, seed=1), env.served.base_ms, "a")
    assert (
        env.call("admin", "PUT", "/alert-channels", json={"spec": _smtp(port)}).status_code == 200
    )
    _monitor_with_rule(env, "mail")
    _run(env)
    assert box.mails == []
    (event,) = env.call("viewer", "GET", "/monitors/m/events").json()
    assert not event["deliveries"][0]["ok"] and "loopback" in event["deliveries"][0]["error"]


def test_a_monitor_of_a_restricted_dataset_is_hidden_as_the_dataset_is(
    monitoring_env: Env,
) -> None:
    from gnomon.data.service import DatasetService

    env = monitoring_env
    datasets = env.live.services.get(DatasetService)  # embedded: no access checks
    datasets.set_access(Scope("default", "admin"), "train", readers=[], writers=["u-editor"])
    assert env.call("viewer", "GET", "/datasets/train").status_code == 404
    env.served.write(frame(200, seed=1), env.served.base_ms, "a")
    made = env.call(
        "editor", "POST", "/monitors", json={"name": "m", "spec": {"deployment": "web"}}
    )
    assert made.status_code == 201, made.text  # the editor may read train@1
    _run(env)
    assert env.call("editor", "GET", "/monitors/m/results").status_code == 200
    for path in ("/monitors/m", "/monitors/m/results", "/monitors/m/report", "/monitors/m/events"):
        assert env.call("viewer", "GET", path).status_code == 404, path
    assert env.call("viewer", "GET", "/monitors").json() == []


@pytest.fixture
def commanded(served: Served, gnomon_home: Path, tmp_path: Path) -> Iterator[Env]:
    out = tmp_path / "stdin.json"
    program = f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read())"
    channels = tmp_path / "channels.json"
    channels.write_text(
        json.dumps(
            {
                "retrain": [sys.executable, "-c", program],
                "elsewhere": {"kind": "command", "argv": ["/bin/true"], "workspaces": ["ws-other"]},
            }
        )
    )
    for env in make_env(served, gnomon_home, alert_channels=channels):
        env.out = out  # type: ignore[attr-defined]
        yield env


def test_an_operator_command_learns_the_workspace_and_serves_only_its_own(
    commanded: Env,
) -> None:
    env = commanded
    env.served.write(frame(50, seed=1), env.served.base_ms, "a")
    _monitor_with_rule(env, "retrain")
    rule = {"figure": "rows", "op": ">", "threshold": 0, "channels": ["elsewhere"]}
    refused = env.call("editor", "PUT", "/monitors/m/rules/other", json=rule)
    assert refused.status_code == 404  # kept to another workspace
    _run(env)
    event = json.loads(env.out.read_text())  # type: ignore[attr-defined]
    assert event["workspace"] == "default" and event["dedup_key"].startswith("default/m/")


def test_references_and_columns_are_bounded(monitoring_env: Env) -> None:
    env = monitoring_env
    late = {"kind": "records", "start_ms": MAX_MILLIS - HOUR, "end_ms": MAX_MILLIS + HOUR}
    long = {"kind": "records", "start_ms": 0, "end_ms": 40 * 86_400_000}
    for reference in (late, long):
        spec = {"deployment": "web", "reference": reference}
        made = env.call("editor", "POST", "/monitors", json={"name": "m", "spec": spec})
        assert made.status_code == 422, made.text
    twice = {"deployment": "web", "columns": ["x", "x"]}
    made = env.call("editor", "POST", "/monitors", json={"name": "m", "spec": twice})
    assert made.status_code == 422 and "more than once" in made.text


def test_a_failing_scheduled_monitor_waits_for_its_schedule(served: Served) -> None:
    from gnomon.config import Settings
    from gnomon.monitoring.entities import MonitorSpec
    from gnomon.monitoring.records import hours
    from gnomon.monitoring.service import MonitorService
    from gnomon.predictions.storage import predictions_store

    served.write(frame(20, seed=1), served.base_ms, "a")
    monitors = served.client.monitors
    monitors.create("m", MonitorSpec("web", window_s=3600, schedule_s=86_400))
    # A file in the window's hour partition that is not Parquet: every run of it fails.
    store = predictions_store(Settings().artifact_root, served.client.scope.workspace)
    ((date, hour),) = hours(served.base_ms, served.base_ms + 1)
    store.put_bytes(
        b"not parquet", f"records/deployment=web/date={date}/hour={hour}/part-x.parquet"
    )
    service = served.client._services.get(MonitorService)
    assert service.run_due() == []  # it failed, logged
    assert service.store.due(monitors.get("m").created_time + 1000) == []
    with pytest.raises(InvalidInput):
        MonitorSpec("web", window_s=None, window_rows=2_000_000)


def test_a_10000_character_name_is_not_echoed_back(monitoring_env: Env) -> None:
    long = "m" * 10_000
    for path in (
        f"/monitors/{long}",
        f"/monitors/{long}/results",
        f"/monitors/m/rules/{long}",
        f"/alert-channels/{long}",
        f"/alert-silences/{long}",
    ):
        method = "DELETE" if "alert-" in path or "/rules/" in path else "GET"
        answer = monitoring_env.call("admin", method, path)
        assert answer.status_code in (404, 422), (path, answer.status_code)
        assert len(answer.content) < 1_000, path
