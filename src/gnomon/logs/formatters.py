"""The two shapes of a log line: one JSON object per line, for ELK and other collectors, or
text for people. Both add the line's context (:mod:`gnomon.logs.context`) and hide secrets.

A JSON line always has the keys of ``FIELDS`` (null when unknown) and, when the record has
them, those of ``OPTIONAL_FIELDS``: the exception (its traceback a string inside the JSON,
never lines of its own), a stack, and an answered request. ``deploy/elk/index-template.json``
maps exactly these; a test holds the two together.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from gnomon.logs.context import LogContext, current

FIELDS = (
    "timestamp",  # ISO 8601, UTC, milliseconds: 2025-06-01T12:00:00.123Z
    "level",  # DEBUG, INFO, WARNING, ERROR, CRITICAL
    "logger",  # gnomon.server, gnomon.access, uvicorn.error, ...
    "message",
    "service",  # the gnomon command the process runs: server, serve, worker, ui, ...
    "pid",
    "thread",
    "request_id",  # the request's X-Request-ID, or the worker step's own id
    "user",
    "workspace",  # the workspace's id
    "object",  # what the line is about: runs/3f2a, models/churn/3, monitors/drift
)
OPTIONAL_FIELDS: Mapping[str, tuple[str, ...]] = {
    "exception": ("type", "message", "stack"),
    "stack_info": (),
    "http": ("method", "path", "route", "status", "duration_ms", "client"),  # gnomon.access
}
_CONTEXT_FIELDS = ("request_id", "user", "workspace", "object")

MASK = "***"
MIN_SECRET = 4  # shorter values would mask every word they happen to be part of
_PATTERNS = (
    # An Authorization header's credentials, wherever a message quotes one.
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{12,}"), rf"\1\2{MASK}"),
    # A gnomon API token: its first 8 characters are what listings show, the rest is secret.
    (re.compile(r"\b(gnm_[A-Za-z0-9_-]{4})[A-Za-z0-9_-]{8,}"), rf"\1{MASK}"),
    # The password of a URI: postgresql://user:password@host, redis://:password@host. The
    # scheme is tried only where a run of scheme characters begins: tried at every word
    # boundary, a client's path of "a.a.a…" took quadratic time (32 KB: 17 s of the loop).
    (
        re.compile(r"(?i)(?<![a-z0-9+.-])([a-z0-9+.-]+://[^\s/:@]*):[^\s/@]+@"),
        rf"\1:{MASK}@",
    ),
)


class Redactor:
    """Hides ``secrets`` (the process's own: its token, passwords, keys) and anything shaped
    like a credential: a bearer token, a gnomon token's secret part, a URI's password."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        known = {s for s in secrets if s is not None and len(s) >= MIN_SECRET}
        self.secrets = sorted(known, key=len, reverse=True)  # a longer one may hold a shorter

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class _GnomonFormatter(logging.Formatter):
    def __init__(self, service: str = "gnomon", secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.service = service
        self.redact = Redactor(secrets)

    def exception_text(self, record: logging.LogRecord) -> str | None:
        """The record's traceback, formatted once (other handlers reuse ``exc_text``)."""
        if has_exception(record) and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)  # type: ignore[arg-type]
        return record.exc_text or None


class JsonFormatter(_GnomonFormatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        return _dumps(self.fields(record))

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        redact = self.redact
        line: dict[str, Any] = {
            "timestamp": timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(message(record)),
            "service": self.service,
            "pid": record.process,
            "thread": record.threadName,
            **_context(current()),
        }
        for field in ("request_id", "object"):  # a client may choose its X-Request-ID
            if line[field] is not None:
                line[field] = redact(line[field])
        stack = self.exception_text(record)
        if stack is not None:
            kind, said = _exception_of(record)
            said = None if said is None else redact(said)
            line["exception"] = {"type": kind, "message": said, "stack": redact(stack)}
        if record.stack_info:
            line["stack_info"] = redact(record.stack_info)
        http = getattr(record, "http", None)
        if isinstance(http, dict):
            line["http"] = {k: http.get(k) for k in OPTIONAL_FIELDS["http"]}
            if isinstance(http.get("path"), str):
                line["http"]["path"] = redact(http["path"])
        return line


class TextFormatter(_GnomonFormatter):
    """``2025-06-01T12:00:00.123Z WARNING gnomon.server: message [request_id=… user=…]``,
    then the traceback, if any, on the lines below."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{timestamp(record)} {record.levelname} {record.name}: {message(record)}"
        known = {k: v for k, v in _context(current()).items() if v is not None}
        if known:
            text += " [" + " ".join(f"{k}={v}" for k, v in known.items()) + "]"
        stack = self.exception_text(record)
        if stack is not None:
            text += "\n" + stack
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return self.redact(text)


def timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


def message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # arguments that do not fit the format: keep both, not lose the line
        return f"{record.msg!s} {record.args!r}"


def has_exception(record: logging.LogRecord) -> bool:
    # logger.exception() outside an except block records (None, None, None).
    return bool(record.exc_info) and record.exc_info[0] is not None  # type: ignore[index]


def _context(context: LogContext | None) -> dict[str, str | None]:
    if context is None:
        return dict.fromkeys(_CONTEXT_FIELDS)
    return {name: getattr(context, name) for name in _CONTEXT_FIELDS}


def _exception_of(record: logging.LogRecord) -> tuple[str | None, str | None]:
    kind, value, _ = record.exc_info or (None, None, None)
    if kind is None:  # only exc_text, set by another formatter
        return None, None
    name = kind.__qualname__
    if kind.__module__ != "builtins":
        name = f"{kind.__module__}.{name}"
    try:
        said = str(value)
    except Exception:  # an exception whose __str__ fails: its type says enough
        said = None
    return name, said


def _dumps(line: dict[str, Any]) -> str:
    try:
        return orjson.dumps(line, default=str).decode()
    except TypeError:  # a lone surrogate (a client's path, a file name) or a huge integer
        return json.dumps(line, default=str, ensure_ascii=True, separators=(",", ":"))


__all__ = ["FIELDS", "OPTIONAL_FIELDS", "JsonFormatter", "Redactor", "TextFormatter"]
