"""Channel specs: where alert events go, as plain frozen values checked when they are built.

The sending lives beside them (``channel_webhook``, ``channel_smtp``, ``channel_command``);
``channels.deliver`` picks the one a spec needs. ``channels`` re-exports everything here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from gnomon.checks import shown, text_problem
from gnomon.errors import InvalidInput
from gnomon.monitoring import alert_checks as check

MAX_URL = 2_000
MAX_HEADERS = 20
MAX_HEADER_VALUE = 1_000
MAX_RECIPIENTS = 50
MAX_ADDRESS = 254  # RFC 5321's limit on a path
MAX_ARGV = 100
MAX_ARG = 10_000
# Headers the HTTP client or gnomon sets from the request itself: a channel cannot change them.
RESERVED_HEADERS = frozenset(
    {"host", "content-type", "content-length", "transfer-encoding", "connection", "user-agent"}
)
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}")  # RFC 9110's token
_HOST = re.compile(r"[A-Za-z0-9._:\-]{1,253}")  # a DNS name, an IPv4 or a bare IPv6 address
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?"
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


class AttemptFailed(Exception):
    """One delivery attempt failed; ``retry`` says whether another attempt may succeed (a
    network error, an HTTP 5xx, an SMTP 4xx) or not (an HTTP 4xx, a refused address)."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True, slots=True)
class WebhookChannel:
    """POST each event's JSON to ``url`` (http or https, no credentials in it: a token goes in
    ``headers``), waiting at most ``timeout_s`` for an answer. Redirects are never followed."""

    name: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)
    timeout_s: float = 5.0

    kind: ClassVar[str] = "webhook"
    trusted_only: ClassVar[bool] = False

    def __post_init__(self) -> None:
        o = "webhook channel"
        check.name(o, "name", self.name)
        _url(o, self.url)
        object.__setattr__(self, "headers", _headers(o, self.headers))
        object.__setattr__(self, "timeout_s", check.positive(o, "timeout_s", self.timeout_s, 60))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "url": self.url,
            "headers": dict(self.headers),
            "timeout_s": self.timeout_s,
        }


@dataclass(frozen=True, slots=True)
class SmtpChannel:
    """Mail each event from ``sender`` to ``recipients`` through ``host:port``, after STARTTLS
    when ``starttls``, logged in as ``username`` when set.

    The password is never part of the spec: ``password_env`` names the environment variable
    that holds it, read at each delivery, so no API, database or log ever carries it.
    """

    name: str
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None
    timeout_s: float = 10.0

    kind: ClassVar[str] = "smtp"
    trusted_only: ClassVar[bool] = False

    def __post_init__(self) -> None:
        o = "smtp channel"
        check.name(o, "name", self.name)
        if not isinstance(self.host, str) or not _HOST.fullmatch(self.host):
            raise check.invalid(o, "host", "must be a host name or an IP address", self.host)
        check.integer(o, "port", self.port, 1, 65_535)
        _address(o, "sender", self.sender)
        recipients = check.items(o, "recipients", self.recipients, 1, MAX_RECIPIENTS)
        for recipient in recipients:
            _address(o, "recipients", recipient)
        object.__setattr__(self, "recipients", recipients)
        if not isinstance(self.starttls, bool):
            raise check.invalid(o, "starttls", "must be true or false", self.starttls)
        check.optional_printable(o, "username", self.username, MAX_ADDRESS)
        env = self.password_env
        if env is not None and (not isinstance(env, str) or not _ENV_NAME.fullmatch(env)):
            raise check.invalid(o, "password_env", "must name an environment variable", env)
        if (self.username is None) != (env is None):
            raise check.invalid(
                o,
                "password_env",
                "and username must be set together (to log in) or not at all",
                env,
            )
        object.__setattr__(self, "timeout_s", check.positive(o, "timeout_s", self.timeout_s, 120))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "host": self.host,
            "port": self.port,
            "sender": self.sender,
            "recipients": list(self.recipients),
            "starttls": self.starttls,
            "username": self.username,
            "password_env": self.password_env,
            "timeout_s": self.timeout_s,
        }


@dataclass(frozen=True, slots=True)
class LogChannel:
    """Write each event as one JSON line to the ``gnomon.alerts`` logger (at the level its
    severity names; ``resolved`` at INFO)."""

    name: str

    kind: ClassVar[str] = "log"
    trusted_only: ClassVar[bool] = False

    def __post_init__(self) -> None:
        check.name("log channel", "name", self.name)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name}


@dataclass(frozen=True, slots=True)
class CommandChannel:
    """Run ``argv`` (no shell) with the event's JSON on stdin; a non-zero exit or running past
    ``timeout_s`` is a failed delivery, never retried (a command need not be idempotent).

    ``trusted_only``: this runs code on the machine that delivers, so only the operator may
    configure it (the server's own config), never an API client. The caller enforces that.
    """

    name: str
    argv: tuple[str, ...]
    timeout_s: float = 30.0

    kind: ClassVar[str] = "command"
    trusted_only: ClassVar[bool] = True

    def __post_init__(self) -> None:
        o = "command channel"
        check.name(o, "name", self.name)
        argv = check.items(o, "argv", self.argv, 1, MAX_ARGV)
        for arg in argv:
            if not isinstance(arg, str) or len(arg) > MAX_ARG or text_problem(arg):
                raise check.invalid(
                    o,
                    "argv",
                    f"items must be text of at most {MAX_ARG} characters, without NUL",
                    arg,
                )
        if not argv[0]:
            raise check.invalid(o, "argv", "must start with a program", argv[0])
        object.__setattr__(self, "argv", argv)
        object.__setattr__(self, "timeout_s", check.positive(o, "timeout_s", self.timeout_s, 600))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "argv": list(self.argv),
            "timeout_s": self.timeout_s,
        }


Channel = WebhookChannel | SmtpChannel | LogChannel | CommandChannel
CHANNEL_TYPES: dict[str, type[Channel]] = {
    cls.kind: cls for cls in (WebhookChannel, SmtpChannel, LogChannel, CommandChannel)
}


def channel_from_dict(data: Mapping[str, Any]) -> Channel:
    """The channel ``to_dict`` wrote, chosen by its ``kind``; unknown keys are refused.

    Raises:
        InvalidInput: not an object, an unknown kind or key, a missing key, or a field out of
            its bounds (the message names the field and the value).
    """
    if not isinstance(data, Mapping):
        raise InvalidInput(f"channel must be an object, got {shown(data)}")
    kind = data.get("kind")
    cls = CHANNEL_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidInput(
            f"channel kind must be one of {', '.join(CHANNEL_TYPES)}, got {shown(kind)}",
            {"field": "kind"},
        )
    body = {key: value for key, value in data.items() if key != "kind"}
    channel: Channel = check.build(f"{kind} channel", cls, body)
    return channel


def _url(owner: str, value: object) -> None:
    text = check.printable(owner, "url", value, MAX_URL)
    import httpx  # here: httpx costs 70 ms to import, and most clients never get here

    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError):
        raise check.invalid(owner, "url", "is not a URL", value) from None
    if url.scheme not in ("http", "https") or " " in text:
        raise check.invalid(owner, "url", "must be an http or https URL", value)
    if not url.host:
        raise check.invalid(owner, "url", "names no host", value)
    if url.port is not None and not 1 <= url.port <= 65_535:
        raise check.invalid(owner, "url", "has a port outside 1 to 65535", value)
    if url.userinfo:  # shown without them: the message may be logged
        masked = str(url.copy_with(userinfo=b""))
        raise check.invalid(
            owner,
            "url",
            "must not hold credentials (user:password@): send a token in headers",
            masked,
        )


def _headers(owner: str, value: object) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise check.invalid(owner, "headers", "must be an object of names to values", value)
    if len(value) > MAX_HEADERS:
        raise check.invalid(owner, "headers", f"must hold at most {MAX_HEADERS} headers", value)
    seen: set[str] = set()
    for name, text in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise check.invalid(owner, "headers", "names must be HTTP header names", name)
        if name.lower() in RESERVED_HEADERS or name.lower() in seen:
            raise check.invalid(owner, "headers", "must not set or repeat a header", name)
        seen.add(name.lower())
        if (
            not isinstance(text, str)
            or len(text) > MAX_HEADER_VALUE
            or not (text.isascii() and text.isprintable())
        ):
            raise InvalidInput(  # the value is not shown: it may be a token
                f"{owner} header {name!r} must be printable ASCII of at most "
                f"{MAX_HEADER_VALUE} characters",
                {"field": f"headers.{name}"},
            )
    return MappingProxyType(dict(value))  # read-only, and no longer the caller's dict


def _address(owner: str, field: str, value: object) -> None:
    if not isinstance(value, str) or len(value) > MAX_ADDRESS or not _ADDRESS.fullmatch(value):
        raise check.invalid(owner, field, "must be a mail address such as ops@example.com", value)
