"""A process's logging from GNOMON_LOG_FORMAT and GNOMON_LOG_LEVEL: with JSON on, stderr
holds nothing but JSON lines, warnings and uncaught exceptions included, and no secret the
process knows. Configured in a child process: the test's own logging is pytest's."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap

import pytest

from gnomon.cli.output import load_settings
from gnomon.config import Settings
from gnomon.errors import InvalidInput
from gnomon.logs.formatters import FIELDS, JsonFormatter, TextFormatter
from gnomon.logs.setup import OWN_LOGGERS, logging_config

CHILD = """
import logging, threading, warnings
from gnomon.config import Settings
from gnomon.logs.setup import configure_logging, writes_json

configure_logging(Settings(), "worker")
logging.getLogger("gnomon.worker").info("kept: %s", writes_json())
logging.getLogger("gnomon.worker").debug("below the level")
logging.getLogger("botocore").info("another library's info: left out")
logging.getLogger("botocore").warning("another library's warning")
logging.getLogger("gnomon.store").warning("cannot reach postgresql://gnomon:Pg-Pass-77@db/x")
logging.getLogger("gnomon.s3").warning("signing with AwsSecretKey0123456789")
warnings.warn("a Python warning")
thread = threading.Thread(target=lambda: 1 / 0, name="doomed")
thread.start()
thread.join()
raise RuntimeError("uncaught in main")
"""


def _run_child(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GNOMON_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD)],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_json_logs_leave_nothing_else_on_stderr() -> None:
    done = _run_child(
        GNOMON_LOG_FORMAT="JSON",
        GNOMON_LOG_LEVEL="info",
        GNOMON_URI="postgresql://gnomon:Pg-Pass-77@db/x",
        AWS_SECRET_ACCESS_KEY="AwsSecretKey0123456789",
    )
    assert done.returncode == 1 and done.stdout == ""
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert all(list(line)[: len(FIELDS)] == list(FIELDS) for line in lines)
    said = [(line["logger"], line["level"], line["message"]) for line in lines]
    assert said[:4] == [
        ("gnomon.worker", "INFO", "kept: True"),
        ("botocore", "WARNING", "another library's warning"),
        ("gnomon.store", "WARNING", "cannot reach postgresql://gnomon:***@db/x"),
        ("gnomon.s3", "WARNING", "signing with ***"),
    ]
    assert said[4][0] == "py.warnings" and "a Python warning" in said[4][2]
    assert said[5] == ("gnomon", "ERROR", "uncaught exception in thread doomed")
    assert lines[5]["exception"]["type"] == "ZeroDivisionError"
    assert said[6] == ("gnomon", "CRITICAL", "uncaught exception")
    assert lines[6]["exception"]["message"] == "uncaught in main"
    assert {line["service"] for line in lines} == {"worker"} and len(lines) == 7
    assert "Pg-Pass-77" not in done.stderr and "AwsSecretKey" not in done.stderr


def test_text_logs_are_for_people() -> None:
    done = _run_child(GNOMON_LOG_LEVEL="warning")
    lines = done.stderr.splitlines()
    assert lines[0].endswith(" WARNING botocore: another library's warning")
    assert not any("kept" in line for line in lines)  # info is below the default level
    assert "Traceback (most recent call last):" in lines  # Python's own, as always


def test_the_configuration_follows_the_settings() -> None:
    config = logging_config(Settings(log_format="json", log_level="debug"), "serve")
    formatter = config["formatters"]["gnomon"]
    assert formatter["()"] is JsonFormatter and formatter["service"] == "serve"
    assert config["root"]["level"] == logging.WARNING  # other libraries' debug output stays out
    assert {name: config["loggers"][name]["level"] for name in OWN_LOGGERS} == dict.fromkeys(
        OWN_LOGGERS, logging.DEBUG
    )
    quiet = logging_config(Settings(log_level="error"), "server")
    assert quiet["formatters"]["gnomon"]["()"] is TextFormatter
    assert quiet["root"]["level"] == logging.ERROR
    assert Settings().log_format == "text" and Settings().log_level == "warning"


def test_secrets_the_process_knows_are_given_to_the_formatter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-the-environment")
    settings = Settings(
        token="gnm_token-of-the-cli",
        admin_password="first-admin-pw",
        uri="postgresql://u:db-password@host/db",
        online_store="redis://:redis-password@cache:6379/0",
    )
    secrets = logging_config(settings, "server")["formatters"]["gnomon"]["secrets"]
    assert set(secrets) == {
        "gnm_token-of-the-cli",
        "first-admin-pw",
        "db-password",
        "redis-password",
        "from-the-environment",
    }


@pytest.mark.parametrize(("name", "value"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "loud")])
def test_an_unknown_format_or_level_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(f"GNOMON_{name}", value)
    with pytest.raises(InvalidInput, match=name.lower()):
        load_settings(None)
