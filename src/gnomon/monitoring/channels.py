"""Delivery channels for alert events: webhook, SMTP mail, log line and command.

A channel is a frozen spec (``WebhookChannel``, ``SmtpChannel``, ``LogChannel``,
``CommandChannel``; ``channel_from_dict`` reads any of them back). :func:`deliver` sends one
event through one channel and reports what happened as a :class:`Delivery`: it never raises
for a failed delivery, so a caller can loop over a rule's channels and record each outcome.

Trust: a ``CommandChannel`` runs a program on the machine that delivers. It is only ever
configured by the operator (the server's own config), never by an API client; the caller
enforces that by refusing any spec whose class has ``trusted_only = True`` from a client.
Likewise a server passes ``allow_private=False`` so that a client's webhook cannot reach the
server's own network (loopback, private, link-local and reserved addresses are refused).

Secrets: an SMTP password is never part of a spec (``password_env`` names the environment
variable holding it), and a delivery's error never carries the webhook URL (whose path is
often a token), its header values or the password.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gnomon._types import now_ms
from gnomon.errors import InvalidInput
from gnomon.monitoring import alert_checks as check
from gnomon.monitoring.alert_rules import AlertEvent
from gnomon.monitoring.channel_command import run_command
from gnomon.monitoring.channel_smtp import send_mail
from gnomon.monitoring.channel_specs import (
    CHANNEL_TYPES,
    AttemptFailed,
    Channel,
    CommandChannel,
    LogChannel,
    SmtpChannel,
    WebhookChannel,
    channel_from_dict,
)

logger = logging.getLogger("gnomon.alerts")

MAX_ERROR = 1_000
_LOG_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.CRITICAL}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Up to ``attempts`` tries for failures that may pass (network errors, HTTP 5xx, SMTP 4xx),
    waiting ``backoff_s``, then ``factor`` times longer before each next one."""

    attempts: int = 3
    backoff_s: float = 0.5
    factor: float = 2.0

    def __post_init__(self) -> None:
        check.integer("retry policy", "attempts", self.attempts, 1, 10)
        check.number("retry policy", "backoff_s", self.backoff_s, 0, 60)
        check.number("retry policy", "factor", self.factor, 1, 10)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (from 1)."""
        return float(self.backoff_s * self.factor ** (attempt - 1))


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one event on one channel: ``ok``, after ``attempts`` tries, or the last
    ``error`` (no secrets in it); ``at_ms`` when the last attempt ended."""

    channel: str
    ok: bool
    attempts: int
    error: str | None
    at_ms: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "ok": self.ok,
            "attempts": self.attempts,
            "error": self.error,
            "at_ms": self.at_ms,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Delivery:
        """The delivery ``to_dict`` wrote (a stored outcome, not a request: no checks)."""
        return cls(
            str(data["channel"]),
            bool(data["ok"]),
            int(data["attempts"]),
            None if data["error"] is None else str(data["error"]),
            int(data["at_ms"]),
        )


DEFAULT_RETRY = RetryPolicy()


def deliver(
    channel: Channel,
    event: AlertEvent,
    *,
    allow_private: bool = True,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> Delivery:
    """Send ``event`` through ``channel``, retrying failures that may pass.

    A webhook gets ``event.to_dict()`` as JSON; an HTTP 4xx or a redirect fails at once. A
    mail is plain text. A log channel writes one JSON line to the ``gnomon.alerts`` logger. A
    command gets the JSON on stdin and is never retried.

    Args:
        allow_private: ``False`` (servers) refuses a webhook whose host resolves to a
            loopback, private, link-local or reserved address, without connecting.
        retry: how many attempts, and the backoff between them.

    Returns:
        The outcome; a failed delivery is reported in it, never raised.

    Raises:
        InvalidInput: ``channel`` is not a channel spec or ``event`` not an AlertEvent.

    Example:
        >>> deliver(WebhookChannel("ops", "https://hooks.example.com/alerts"), event)
        Delivery(channel='ops', ok=True, attempts=1, error=None, at_ms=...)
    """
    if not isinstance(channel, tuple(CHANNEL_TYPES.values())):
        raise InvalidInput(f"not a channel spec: {type(channel).__name__}", {"field": "channel"})
    if not isinstance(event, AlertEvent):
        raise InvalidInput(f"not an alert event: {type(event).__name__}", {"field": "event"})
    body = json.dumps(event.to_dict(), separators=(",", ":"), allow_nan=False).encode()
    attempts = 0
    while True:
        attempts += 1
        try:
            _attempt(channel, event, body, allow_private)
            return Delivery(channel.name, True, attempts, None, now_ms())
        except AttemptFailed as exc:
            error, again = str(exc), exc.retry
        except Exception as exc:  # a bug here must not stop the caller's other channels
            logger.error("delivery through channel %r failed", channel.name, exc_info=True)
            error, again = f"unexpected {type(exc).__name__}: {exc}", False
        if not again or attempts >= retry.attempts:
            return Delivery(channel.name, False, attempts, _redacted(error, channel), now_ms())
        time.sleep(retry.delay(attempts))


def _attempt(channel: Channel, event: AlertEvent, body: bytes, allow_private: bool) -> None:
    if isinstance(channel, WebhookChannel):
        from gnomon.monitoring.channel_webhook import post  # httpx: imported when used

        post(channel, body, allow_private=allow_private)
    elif isinstance(channel, SmtpChannel):
        if not allow_private:  # the mail server must not be one inside this network either
            from gnomon.monitoring.channel_webhook import refuse_private, resolve

            refuse_private(channel.host, resolve(channel.host, channel.port))
        send_mail(channel, event)
    elif isinstance(channel, CommandChannel):
        run_command(channel, body)
    else:
        logger.log(_log_level(event), body.decode())


def _log_level(event: AlertEvent) -> int:
    return logging.INFO if event.kind == "resolved" else _LOG_LEVELS[event.severity]


def _redacted(error: str, channel: Channel) -> str:
    """``error`` without anything of the channel's that may be a secret."""
    for secret in sorted(_secrets(channel), key=len, reverse=True):
        error = error.replace(secret, "***")
    return error[:MAX_ERROR]


def _secrets(channel: Channel) -> list[str]:
    found: list[str] = []
    if isinstance(channel, WebhookChannel):
        import httpx

        url = httpx.URL(channel.url)
        found += [channel.url, str(url), url.raw_path.decode("ascii", "replace")]
        found += list(channel.headers.values())
    elif isinstance(channel, SmtpChannel) and channel.password_env:
        password = os.environ.get(channel.password_env)
        found += [password] if password else []
    return [s for s in found if len(s) >= 8]  # shorter ones ("/", "on") are not secrets


__all__ = [
    "Channel",
    "CommandChannel",
    "Delivery",
    "LogChannel",
    "RetryPolicy",
    "SmtpChannel",
    "WebhookChannel",
    "channel_from_dict",
    "deliver",
]
