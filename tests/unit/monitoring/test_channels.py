"""Channels deliver to real servers on 127.0.0.1: http.server, aiosmtpd and real processes."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from gnomon.errors import InvalidInput
from gnomon.monitoring.alert_rules import AlertEvent, AlertRule, AlertState, step
from gnomon.monitoring.channel_webhook import _first_answer, private_kind
from gnomon.monitoring.channels import (
    CommandChannel,
    Delivery,
    LogChannel,
    RetryPolicy,
    SmtpChannel,
    WebhookChannel,
    channel_from_dict,
    deliver,
)

T0 = 1_700_000_000_000
FAST = RetryPolicy(attempts=3, backoff_s=0)


def make_event(value: float = 0.7, severity: str = "warning") -> AlertEvent:
    rule = AlertRule("drift-high", "web-drift", "drift.share", ">", 0.5, severity=severity)
    _, event = step(rule, AlertState(), value, T0, at_ms=T0 + 5)
    assert event is not None
    return event


@pytest.fixture
def event() -> AlertEvent:
    return make_event()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# A webhook receiver


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Hook:
    port: int
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    received: list[Received] = field(default_factory=list)
    stall: bool = False  # hold every answer until the test ends
    released: threading.Event = field(default_factory=threading.Event)
    redirect_to: str = "http://127.0.0.1:9/"

    def url(self, path: str = "/hooks/alerts", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


class _HookHandler(BaseHTTPRequestHandler):
    server: _HookServer

    def do_POST(self) -> None:
        hook = self.server.hook
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {key.lower(): value for key, value in self.headers.items()}
        hook.received.append(Received(self.path, headers, body))
        if hook.stall:
            hook.released.wait(30)
        status = hook.statuses.pop(0) if hook.statuses else 200
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", hook.redirect_to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:  # keep the test output to the tests
        pass


class _HookServer(ThreadingHTTPServer):
    hook: Hook


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = _HookServer(("127.0.0.1", 0), _HookHandler)
    server.hook = Hook(port=server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.hook
    server.hook.released.set()
    server.shutdown()
    server.server_close()
    thread.join()


def test_webhook_posts_the_event_json(hook: Hook, event: AlertEvent) -> None:
    channel = WebhookChannel("ops", hook.url(), headers={"Authorization": "Bearer t0ken-abc"})
    delivery = deliver(channel, event, retry=FAST)
    assert (delivery.channel, delivery.ok, delivery.attempts, delivery.error) == (
        "ops",
        True,
        1,
        None,
    )
    [request] = hook.received
    assert json.loads(request.body) == event.to_dict()
    assert request.path == "/hooks/alerts"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "gnomon-alerts"
    assert request.headers["authorization"] == "Bearer t0ken-abc"
    assert request.headers["host"] == f"127.0.0.1:{hook.port}"


def test_webhook_reaches_localhost_by_name(hook: Hook, event: AlertEvent) -> None:
    # localhost may resolve to ::1 first, where nothing listens: the next address is tried.
    delivery = deliver(WebhookChannel("ops", hook.url(host="localhost")), event, retry=FAST)
    assert delivery.ok and delivery.attempts == 1
    [request] = hook.received
    assert request.headers["host"] == f"localhost:{hook.port}"


def test_webhook_tries_the_next_address_when_one_refuses(hook: Hook) -> None:
    # Nothing listens on 127.0.0.2 (the server is bound to 127.0.0.1): as when localhost
    # resolves to ::1 first and the receiver listens on IPv4 only.
    addresses = [ipaddress.ip_address("127.0.0.2"), ipaddress.ip_address("127.0.0.1")]
    with httpx.Client(timeout=5) as client:
        status = _first_answer(client, httpx.URL(hook.url()), addresses, b"{}", {}, {})
    assert status == 200 and len(hook.received) == 1


def test_webhook_retries_a_5xx_and_succeeds(hook: Hook, event: AlertEvent) -> None:
    hook.statuses = [500, 503]
    delivery = deliver(WebhookChannel("ops", hook.url()), event, retry=FAST)
    assert (delivery.ok, delivery.attempts, delivery.error) == (True, 3, None)
    assert len(hook.received) == 3
    assert len({r.body for r in hook.received}) == 1  # the same body each time


def test_webhook_gives_up_after_the_last_attempt(hook: Hook, event: AlertEvent) -> None:
    hook.statuses = [500, 500, 500, 500]
    delivery = deliver(WebhookChannel("ops", hook.url()), event, retry=FAST)
    assert (delivery.ok, delivery.attempts, delivery.error) == (False, 3, "HTTP 500")
    assert len(hook.received) == 3


def test_webhook_4xx_fails_without_retrying(hook: Hook, event: AlertEvent) -> None:
    hook.statuses = [400]
    delivery = deliver(WebhookChannel("ops", hook.url()), event, retry=FAST)
    assert (delivery.ok, delivery.attempts, delivery.error) == (False, 1, "HTTP 400")
    assert len(hook.received) == 1


def test_webhook_does_not_follow_a_redirect(hook: Hook, event: AlertEvent) -> None:
    hook.statuses = [302]
    hook.redirect_to = hook.url("/elsewhere")
    delivery = deliver(WebhookChannel("ops", hook.url()), event, retry=FAST)
    assert not delivery.ok and delivery.attempts == 1
    assert delivery.error == "HTTP 302: redirects are not followed"
    assert [r.path for r in hook.received] == ["/hooks/alerts"]  # /elsewhere never asked


def test_webhook_to_a_closed_port_fails_with_an_error(event: AlertEvent) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hooks/SECRET-TOKEN-1234"
    delivery = deliver(WebhookChannel("ops", url), event, retry=FAST)
    assert not delivery.ok and delivery.attempts == 3  # a network error is retried
    assert delivery.error is not None and "cannot connect" in delivery.error
    assert "SECRET-TOKEN" not in delivery.error


def test_webhook_timeout_fails_and_is_retried(hook: Hook, event: AlertEvent) -> None:
    hook.stall = True
    channel = WebhookChannel("ops", hook.url(), timeout_s=0.2)
    delivery = deliver(channel, event, retry=RetryPolicy(attempts=2, backoff_s=0))
    assert not delivery.ok and delivery.attempts == 2
    assert delivery.error is not None and "Timeout" in delivery.error


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_webhook_refuses_private_hosts_without_connecting(
    hook: Hook, event: AlertEvent, host: str
) -> None:
    channel = WebhookChannel("ops", hook.url(host=host))
    delivery = deliver(channel, event, allow_private=False, retry=FAST)
    assert not delivery.ok and delivery.attempts == 1  # a refusal is not retried
    assert delivery.error is not None
    assert f"host {host!r} resolves to" in delivery.error and "loopback" in delivery.error
    assert hook.received == []


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("::ffff:192.168.0.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata services
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_private_kind_names_what_a_server_must_not_reach(address: str, kind: str | None) -> None:
    assert private_kind(ipaddress.ip_address(address)) == kind


def test_private_kind_refuses_every_non_public_address() -> None:
    for address in ("0.0.0.0", "240.0.0.1", "255.255.255.255", "::", "192.0.2.1"):
        assert private_kind(ipaddress.ip_address(address)) is not None, address


def test_webhook_to_a_name_that_does_not_resolve_fails(event: AlertEvent) -> None:
    channel = WebhookChannel("ops", "http://no-such-host.invalid/hook")
    delivery = deliver(channel, event, retry=RetryPolicy(attempts=1))
    assert not delivery.ok
    assert delivery.error is not None and "cannot resolve host 'no-such-host.invalid'" in (
        delivery.error
    )


# A mail server


@dataclass
class Inbox:
    refuse: dict[str, str] = field(default_factory=dict)  # address -> SMTP reply
    mails: list[tuple[str, list[str], bytes, bool]] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = (
            envelope.mail_from,
            list(envelope.rcpt_tos),
            envelope.content,
            session.authenticated,
        )
        self.mails.append(mail)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        ok = (data.login, data.password) == (b"alerts", b"s3cret-pass")
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


class _LoopbackController(Controller):  # type: ignore[misc]
    """aiosmtpd's controller on a free port: the one the OS gave, read once it listens."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    # AUTH is offered (not required) over plain text: loopback only, as tests need no TLS.
    controller = _LoopbackController(
        box, hostname="127.0.0.1", port=0, authenticator=box.authenticate, auth_require_tls=False
    )
    controller.start()
    yield box, controller.port
    controller.stop()


def smtp(port: int, **changes: Any) -> SmtpChannel:
    spec: dict[str, Any] = {
        "name": "mail",
        "host": "127.0.0.1",
        "port": port,
        "sender": "gnomon@example.com",
        "recipients": ("ops@example.com", "ana@example.org"),
    }
    return SmtpChannel(**{**spec, **changes})


def test_smtp_mails_every_recipient(inbox: tuple[Inbox, int], event: AlertEvent) -> None:
    box, port = inbox
    delivery = deliver(smtp(port), event, retry=FAST)
    assert (delivery.ok, delivery.attempts, delivery.error) == (True, 1, None)
    [(sender, recipients, content, authenticated)] = box.mails
    assert sender == "gnomon@example.com"
    assert recipients == ["ops@example.com", "ana@example.org"]
    assert not authenticated
    mail = email.message_from_bytes(content, policy=email.policy.default)
    assert mail["Subject"] == "[gnomon] FIRING warning: drift.share > 0.5 on monitor web-drift"
    assert mail["To"] == "ops@example.com, ana@example.org"
    assert mail["X-Gnomon-Dedup-Key"] == event.dedup_key
    text = mail.get_content()
    assert "value:         0.7" in text and event.dedup_key in text
    assert "window end:    2023-11-14T22:13:20Z" in text


def test_smtp_logs_in_with_the_password_from_the_environment(
    inbox: tuple[Inbox, int], event: AlertEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, port = inbox
    monkeypatch.setenv("GNOMON_TEST_SMTP_PASSWORD", "s3cret-pass")
    channel = smtp(port, username="alerts", password_env="GNOMON_TEST_SMTP_PASSWORD")
    assert "s3cret-pass" not in json.dumps(channel.to_dict())
    assert deliver(channel, event, retry=FAST).ok
    assert box.logins == [(b"alerts", b"s3cret-pass")]
    [(_, _, _, authenticated)] = box.mails
    assert authenticated


def test_smtp_refused_login_fails_without_retrying(
    inbox: tuple[Inbox, int], event: AlertEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, port = inbox
    monkeypatch.setenv("GNOMON_TEST_SMTP_PASSWORD", "wrong-password")
    channel = smtp(port, username="alerts", password_env="GNOMON_TEST_SMTP_PASSWORD")
    delivery = deliver(channel, event, retry=FAST)
    assert not delivery.ok and delivery.attempts == 1
    assert delivery.error is not None and delivery.error.startswith("SMTP 535")
    assert "wrong-password" not in delivery.error
    assert box.mails == []


def test_smtp_without_the_password_variable_fails(
    inbox: tuple[Inbox, int], event: AlertEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, port = inbox
    monkeypatch.delenv("GNOMON_TEST_SMTP_PASSWORD", raising=False)
    channel = smtp(port, username="alerts", password_env="GNOMON_TEST_SMTP_PASSWORD")
    delivery = deliver(channel, event, retry=FAST)
    assert not delivery.ok and delivery.attempts == 1
    assert delivery.error == (
        "environment variable GNOMON_TEST_SMTP_PASSWORD (the SMTP password) is not set"
    )
    assert box.logins == [] and box.mails == []


def test_smtp_permanent_refusal_is_not_retried_and_temporary_one_is(
    inbox: tuple[Inbox, int], event: AlertEvent
) -> None:
    box, port = inbox
    box.refuse = {"ops@example.com": "550 no such user"}
    delivery = deliver(smtp(port, recipients=("ops@example.com",)), event, retry=FAST)
    assert not delivery.ok and delivery.attempts == 1
    assert delivery.error == "SMTP refused 1 recipient(s): ops@example.com (550 no such user)"
    box.refuse = {"ops@example.com": "451 try again later"}
    delivery = deliver(smtp(port, recipients=("ops@example.com",)), event, retry=FAST)
    assert not delivery.ok and delivery.attempts == 3
    assert box.mails == []


def test_smtp_partly_refused_mail_is_reported_and_not_sent_twice(
    inbox: tuple[Inbox, int], event: AlertEvent
) -> None:
    box, port = inbox
    box.refuse = {"ana@example.org": "550 no such user"}
    delivery = deliver(smtp(port), event, retry=FAST)
    assert not delivery.ok and delivery.attempts == 1
    assert delivery.error is not None and "ana@example.org (550 no such user)" in delivery.error
    [(_, recipients, _, _)] = box.mails
    assert recipients == ["ops@example.com"]


def test_smtp_starttls_on_a_server_without_it_fails(
    inbox: tuple[Inbox, int], event: AlertEvent
) -> None:
    box, port = inbox
    delivery = deliver(smtp(port, starttls=True), event, retry=FAST)
    assert not delivery.ok and delivery.attempts == 1
    assert delivery.error is not None and "STARTTLS" in delivery.error
    assert box.mails == []


def test_smtp_to_a_closed_port_fails_after_retries(event: AlertEvent) -> None:
    delivery = deliver(smtp(closed_port()), event, retry=FAST)
    assert not delivery.ok and delivery.attempts == 3
    assert delivery.error is not None and "ConnectionRefusedError" in delivery.error


# Commands


def python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def test_command_gets_the_event_json_on_stdin(tmp_path: Path, event: AlertEvent) -> None:
    out = tmp_path / "event.json"
    code = f"import sys, pathlib; pathlib.Path({str(out)!r}).write_bytes(sys.stdin.buffer.read())"
    delivery = deliver(CommandChannel("script", python(code)), event, retry=FAST)
    assert (delivery.ok, delivery.attempts, delivery.error) == (True, 1, None)
    assert json.loads(out.read_bytes()) == event.to_dict()


def test_failing_command_is_a_failed_delivery_with_its_stderr(event: AlertEvent) -> None:
    code = "import sys; sys.stdin.read(); print('pager is down', file=sys.stderr); sys.exit(3)"
    delivery = deliver(CommandChannel("script", python(code)), event, retry=FAST)
    assert not delivery.ok and delivery.attempts == 1  # a command is never retried
    assert delivery.error is not None
    assert "exited with status 3: pager is down" in delivery.error


def test_command_past_its_timeout_is_killed_with_its_children(
    tmp_path: Path, event: AlertEvent
) -> None:
    pid_file = tmp_path / "child.pid"
    # The sleeper is a child of the command: it must go with the command's process group.
    child = (
        f"import os, time, pathlib; pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))"
        "; time.sleep(60)"
    )
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    channel = CommandChannel("script", python(code), timeout_s=1.5)
    delivery = deliver(channel, event, retry=FAST)
    assert not delivery.ok and delivery.attempts == 1
    assert delivery.error is not None and "ran past 1.5 s and was killed" in delivery.error
    assert gone(int(pid_file.read_text()))


def gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie counts: only its parent's reaping is left)."""
    status = Path(f"/proc/{pid}/status")
    for _ in range(500):  # SIGKILL lands at once; the kernel may take a moment to tear down
        try:
            if "\nState:\tZ" in status.read_text():
                return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.01)
    return False


def test_missing_program_is_a_failed_delivery(tmp_path: Path, event: AlertEvent) -> None:
    channel = CommandChannel("script", (str(tmp_path / "no-such-program"),))
    delivery = deliver(channel, event, retry=FAST)
    assert not delivery.ok and delivery.attempts == 1
    assert delivery.error is not None and "cannot run" in delivery.error


def test_command_channels_are_for_the_operator_only() -> None:
    assert CommandChannel.trusted_only
    assert not any(c.trusted_only for c in (WebhookChannel, SmtpChannel, LogChannel))


# The log channel


def test_log_channel_writes_one_json_line(
    caplog: pytest.LogCaptureFixture, event: AlertEvent
) -> None:
    with caplog.at_level(logging.INFO, logger="gnomon.alerts"):
        assert deliver(LogChannel("log"), make_event(severity="critical")).ok
        resolved = AlertEvent.from_dict({**event.to_dict(), "kind": "resolved"})
        assert deliver(LogChannel("log"), resolved).ok
    critical, info = [r for r in caplog.records if r.name == "gnomon.alerts"]
    assert "\n" not in critical.getMessage()
    assert json.loads(critical.getMessage())["severity"] == "critical"
    assert critical.levelno == logging.CRITICAL
    assert json.loads(info.getMessage()) == resolved.to_dict()
    assert info.levelno == logging.INFO


# Specs


def test_every_channel_round_trips_through_its_dict() -> None:
    channels = [
        WebhookChannel("ops", "https://hooks.example.com/a?b=1", {"X-Token": "t"}, 2.5),
        SmtpChannel(
            "mail", "smtp.example.com", 587, "a@example.com", ("b@example.com",), True, "u", "PW"
        ),
        LogChannel("log"),
        CommandChannel("script", ("/usr/bin/notify", "--now"), timeout_s=3),
    ]
    for channel in channels:
        assert channel_from_dict(json.loads(json.dumps(channel.to_dict()))) == channel
        hash(channel)  # frozen values: usable as keys


def test_webhook_headers_are_read_only_and_not_the_callers_dict() -> None:
    headers = {"X-Token": "a"}
    channel = WebhookChannel("ops", "https://example.com/", headers)
    headers["X-Token"] = "changed"
    assert channel.headers == {"X-Token": "a"}
    with pytest.raises(TypeError):
        channel.headers["X-Token"] = "b"  # type: ignore[index]


GOOD = {
    "webhook": {"kind": "webhook", "name": "ops", "url": "https://hooks.example.com/x"},
    "smtp": {
        "kind": "smtp",
        "name": "mail",
        "host": "smtp.example.com",
        "port": 25,
        "sender": "gnomon@example.com",
        "recipients": ["ops@example.com"],
    },
    "log": {"kind": "log", "name": "log"},
    "command": {"kind": "command", "name": "script", "argv": ["/usr/bin/true"]},
}


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("webhook", "name", ""),
        ("webhook", "name", "a b"),
        ("webhook", "name", "n" * 101),
        ("webhook", "url", "ftp://example.com/x"),
        ("webhook", "url", "file:///etc/passwd"),
        ("webhook", "url", "hooks.example.com/x"),
        ("webhook", "url", "http://"),
        ("webhook", "url", "http://example.com:99999/"),
        ("webhook", "url", "http://[::1/"),
        ("webhook", "url", "http://exa mple.com/"),
        ("webhook", "url", "https://example.com/" + "x" * 2000),
        ("webhook", "url", "https://example.com/\n"),
        ("webhook", "url", 5),
        ("webhook", "headers", ["X-A"]),
        ("webhook", "headers", {"Bad Header": "v"}),
        ("webhook", "headers", {"Content-Type": "text/plain"}),
        ("webhook", "headers", {"user-agent": "curl"}),
        ("webhook", "headers", {"X-A": "1", "x-a": "2"}),
        ("webhook", "headers", {f"X-{i}": "v" for i in range(21)}),
        ("webhook", "timeout_s", 0),
        ("webhook", "timeout_s", 61),
        ("webhook", "timeout_s", "5"),
        ("smtp", "name", "../x"),
        ("smtp", "host", ""),
        ("smtp", "host", "smtp example.com"),
        ("smtp", "host", "h" * 254),
        ("smtp", "port", 0),
        ("smtp", "port", 65_536),
        ("smtp", "port", "25"),
        ("smtp", "sender", "gnomon"),
        ("smtp", "sender", "a@b.com\nBcc: x@y.com"),
        ("smtp", "sender", "Gnomon <a@b.com>"),
        ("smtp", "recipients", []),
        ("smtp", "recipients", "ops@example.com"),
        ("smtp", "recipients", ["not-an-address"]),
        ("smtp", "recipients", ["a@b.com", "a@b.com"]),
        ("smtp", "recipients", [f"u{i}@example.com" for i in range(51)]),
        ("smtp", "starttls", "yes"),
        ("smtp", "password_env", "not a name"),
        ("smtp", "password_env", "1PASSWORD"),
        ("smtp", "timeout_s", -1),
        ("log", "name", ""),
        ("command", "name", "."),
        ("command", "argv", []),
        ("command", "argv", "/usr/bin/true"),
        ("command", "argv", [""]),
        ("command", "argv", ["/usr/bin/true", "a\x00b"]),
        ("command", "argv", ["/usr/bin/true", 5]),
        ("command", "argv", ["x"] * 101),
        ("command", "timeout_s", 601),
    ],
)
def test_every_channel_bound_names_its_field(kind: str, field: str, value: object) -> None:
    with pytest.raises(InvalidInput, match=f"{kind} channel {field}") as caught:
        channel_from_dict({**GOOD[kind], field: value})
    assert caught.value.details["field"] == field


def test_webhook_header_values_are_bounded_but_never_echoed() -> None:
    for value in ("line\nbreak", "x" * 1001, "café", 5):
        with pytest.raises(InvalidInput, match="webhook channel header 'X-Token'") as caught:
            channel_from_dict({**GOOD["webhook"], "headers": {"X-Token": value}})
        assert caught.value.details == {"field": "headers.X-Token"}
        assert str(value)[:4] not in caught.value.message.replace("X-Token", "")


def test_webhook_url_with_credentials_is_refused_without_showing_them() -> None:
    with pytest.raises(InvalidInput, match="must not hold credentials") as caught:
        WebhookChannel("ops", "https://user:hunter22@example.com/x")
    assert "hunter22" not in caught.value.message
    assert caught.value.details == {"field": "url"}


def test_smtp_username_and_password_env_go_together() -> None:
    with pytest.raises(InvalidInput, match="smtp channel password_env and username"):
        channel_from_dict({**GOOD["smtp"], "username": "alerts"})
    with pytest.raises(InvalidInput, match="smtp channel password_env and username"):
        channel_from_dict({**GOOD["smtp"], "password_env": "SMTP_PASSWORD"})


def test_channel_from_dict_refuses_unknown_kinds_and_keys() -> None:
    with pytest.raises(InvalidInput, match="channel kind must be one of") as caught:
        channel_from_dict({"kind": "pager", "name": "p"})
    assert caught.value.details == {"field": "kind"}
    with pytest.raises(InvalidInput, match="webhook channel has no field 'password'"):
        channel_from_dict({**GOOD["webhook"], "password": "x"})
    with pytest.raises(InvalidInput, match="smtp channel recipients is required"):
        channel_from_dict({k: v for k, v in GOOD["smtp"].items() if k != "recipients"})
    with pytest.raises(InvalidInput, match="channel must be an object"):
        channel_from_dict("webhook")  # type: ignore[arg-type]


def test_deliver_refuses_what_is_not_a_channel_or_an_event(event: AlertEvent) -> None:
    with pytest.raises(InvalidInput, match="not a channel spec: dict"):
        deliver(GOOD["log"], event)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="not an alert event"):
        deliver(LogChannel("log"), event.to_dict())  # type: ignore[arg-type]


def test_retry_policy_is_bounded_and_backs_off_exponentially() -> None:
    assert [RetryPolicy(backoff_s=0.5).delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    for changes in ({"attempts": 0}, {"attempts": 11}, {"backoff_s": -1}, {"factor": 0.5}):
        with pytest.raises(InvalidInput, match="retry policy"):
            RetryPolicy(**changes)


def test_delivery_to_dict() -> None:
    delivery = Delivery("ops", False, 3, "HTTP 500", T0)
    assert delivery.to_dict() == {
        "channel": "ops",
        "ok": False,
        "attempts": 3,
        "error": "HTTP 500",
        "at_ms": T0,
    }
    assert Delivery.from_dict(json.loads(json.dumps(delivery.to_dict()))) == delivery
