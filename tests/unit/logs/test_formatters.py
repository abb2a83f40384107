"""Both shapes of a log line: JSON with every field and the exception inside it, text for
people; neither lets a secret through."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

import pytest

from gnomon.logs.context import log_context
from gnomon.logs.formatters import FIELDS, JsonFormatter, Redactor, TextFormatter

TOKEN = "gnm_Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEf"


def _record(
    message: str = "hello %s", args: tuple[Any, ...] = ("world",), **extra: Any
) -> logging.LogRecord:
    record = logging.LogRecord("gnomon.test", logging.WARNING, __file__, 1, message, args, None)
    record.created, record.msecs = 1_750_000_000.25, 250.0
    record.__dict__.update(extra)
    return record


def _failed() -> Any:
    try:
        raise ValueError("bad value\non two lines")
    except ValueError:
        return sys.exc_info()


def test_a_json_line_has_every_field_and_the_context() -> None:
    with log_context("req-1", user="alice", workspace="w-id", object="runs/3f2a"):
        line = json.loads(JsonFormatter("server").format(_record()))
    assert list(line) == list(FIELDS)
    assert line["timestamp"] == "2025-06-15T15:06:40.250Z"
    assert line["level"] == "WARNING" and line["logger"] == "gnomon.test"
    assert line["message"] == "hello world" and line["service"] == "server"
    assert line["pid"] > 0 and line["thread"]
    assert (line["request_id"], line["user"], line["workspace"], line["object"]) == (
        "req-1",
        "alice",
        "w-id",
        "runs/3f2a",
    )


def test_outside_a_request_the_context_fields_are_null() -> None:
    line = json.loads(JsonFormatter().format(_record()))
    assert [line[k] for k in ("request_id", "user", "workspace", "object")] == [None] * 4


def test_an_exception_is_a_field_and_the_line_stays_one_line() -> None:
    text = JsonFormatter().format(_record("failed", (), exc_info=_failed()))
    assert "\n" not in text
    exception = json.loads(text)["exception"]
    assert exception["type"] == "ValueError"
    assert exception["message"] == "bad value\non two lines"
    assert exception["stack"].startswith("Traceback") and "_failed" in exception["stack"]


def test_an_access_line_carries_its_answer() -> None:
    http = {"method": "GET", "path": "/x", "route": "/x", "status": 200, "duration_ms": 1.5}
    line = json.loads(JsonFormatter().format(_record(http=http)))
    assert line["http"] == http | {"client": None}


def test_odd_input_never_loses_the_line() -> None:
    lone_surrogate = json.loads(JsonFormatter().format(_record("path %s", ("/\udc80",))))
    assert lone_surrogate["message"] == "path /\udc80"
    mismatched = json.loads(JsonFormatter().format(_record("%d items", ("many",))))
    assert mismatched["message"] == "%d items ('many',)"
    outside_except = _record("no exception", (), exc_info=(None, None, None))
    assert "exception" not in json.loads(JsonFormatter().format(outside_except))


def test_text_shows_the_context_then_the_traceback() -> None:
    with log_context("req-1", user="alice"):
        text = TextFormatter().format(_record("failed", (), exc_info=_failed()))
    first, *rest = text.splitlines()
    assert first == (
        "2025-06-15T15:06:40.250Z WARNING gnomon.test: failed [request_id=req-1 user=alice]"
    )
    assert rest[0] == "Traceback (most recent call last):" and rest[-2] == "ValueError: bad value"


@pytest.mark.parametrize(
    ("said", "hidden"),
    [
        (f"Authorization: Bearer {TOKEN}", TOKEN[8:]),
        (f"token {TOKEN} refused", TOKEN[8:]),
        ("Basic dXNlcjpwYXNzd29yZDEyMw==", "dXNlcjpwYXNzd29yZDEyMw=="),
        ("postgresql://gnomon:pg-Secret-1@db:5432/gnomon", "pg-Secret-1"),
        ("redis://:redis-pw-22@cache:6379/0 is away", "redis-pw-22"),
        ("the key is operator-known-secret", "operator-known-secret"),
    ],
)
def test_secrets_are_hidden_in_both_shapes(said: str, hidden: str) -> None:
    secrets = ["operator-known-secret", "abc"]  # too short a secret is not masked everywhere
    record = _record("%s", (said,), exc_info=_failed())
    for formatter in (JsonFormatter(secrets=secrets), TextFormatter(secrets=secrets)):
        with log_context(said, object=said):
            text = formatter.format(record)
        assert hidden not in text and "***" in text
    assert "gnm_Ab3d***" in Redactor()(TOKEN)  # the prefix listings show is kept


def test_ordinary_text_is_left_alone() -> None:
    said = "missing bearer token: log in (abc); see http://host:5000/api@v1 and gnm_ tokens"
    assert Redactor(["abc"])(said) == said


@pytest.mark.parametrize("said", ["a." * 32_000, "/api/v1/runs/" + "a-" * 32_000, "é+" * 32_000])
def test_a_hostile_path_is_redacted_in_linear_time(said: str) -> None:
    # A client chooses the path an access line quotes; with the URI's scheme tried at every
    # word boundary this took about 20 s (quadratic), blocking the server's event loop.
    started = time.perf_counter()
    assert Redactor()(said) == said
    assert time.perf_counter() - started < 1.0


def test_a_uri_password_is_hidden_whatever_precedes_its_scheme() -> None:
    redact = Redactor()
    for said in (
        "x_postgresql://u:pw-1@h",
        "1.redis://:pw-1@h",
        "...s3://k:pw-1@b",
        "(mysql://u:pw-1@h)",
    ):
        assert "pw-1" not in redact(said) and ":***@" in redact(said)
