"""A gnomon process's logging, from ``GNOMON_LOG_FORMAT`` and ``GNOMON_LOG_LEVEL``.

:func:`logging_config` is one ``logging.config.dictConfig`` configuration: the CLI applies it
(:func:`configure_logging`) and hands it to uvicorn as its ``log_config``, so uvicorn's own
lines and its worker processes (``--workers N``, each a fresh interpreter) write the same
lines. gnomon's and uvicorn's loggers log at ``GNOMON_LOG_LEVEL``; other libraries only
their warnings and errors, whose debug output may quote credentials.
"""

from __future__ import annotations

import logging
import logging.config
import os
import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

from gnomon.logs.formatters import JsonFormatter, TextFormatter

if TYPE_CHECKING:
    from gnomon.config import Settings

# Loggers that log at GNOMON_LOG_LEVEL; every other library's at WARNING (or above).
OWN_LOGGERS = ("gnomon", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
# Secrets gnomon does not read itself (boto3 does) but a traceback or a message might quote.
ENVIRONMENT_SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def logging_config(settings: Settings, service: str) -> dict[str, Any]:
    """The logging of a process running ``gnomon <service>``, as ``dictConfig`` takes it."""
    level = logging.getLevelName(settings.log_level.upper())
    json_lines = settings.log_format == "json"
    formatter = JsonFormatter if json_lines else TextFormatter
    own = {"level": level, "handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,  # the loggers modules made at import keep working
        "formatters": {
            "gnomon": {"()": formatter, "service": service, "secrets": secrets_of(settings)}
        },
        "handlers": {
            "stderr": {"()": StderrHandler, "formatter": "gnomon", "json_lines": json_lines}
        },
        "root": {"level": max(level, logging.WARNING), "handlers": ["stderr"]},
        "loggers": {name: dict(own) for name in OWN_LOGGERS},
    }


def configure_logging(settings: Settings, service: str) -> None:
    """Make this process log as ``settings`` say (see :func:`logging_config`)."""
    logging.config.dictConfig(logging_config(settings, service))


def writes_json() -> bool:
    """Whether this process writes its stderr as JSON lines (``GNOMON_LOG_FORMAT=json``)."""
    return any(
        isinstance(handler, StderrHandler) and isinstance(handler.formatter, JsonFormatter)
        for handler in logging.getLogger().handlers
    )


def secrets_of(settings: Settings) -> list[str]:
    """The secrets this process knows, hidden wherever a line would quote them."""
    found = [settings.token, settings.admin_password]
    found += [_password(uri) for uri in (settings.uri, settings.online_store, settings.artifacts)]
    found += [os.environ.get(name) for name in ENVIRONMENT_SECRETS]
    return [secret for secret in found if secret]


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes each line to whatever ``sys.stderr`` is at the time, as logging's last resort
    does. With ``json_lines``, Python's warnings and uncaught exceptions become log lines
    too, so that stderr holds nothing but JSON; ``dictConfig`` builds the handler in every
    process, uvicorn's workers included, which is why it does this and not the caller."""

    def __init__(self, json_lines: bool = False) -> None:
        logging.Handler.__init__(self)
        if json_lines:
            logging.captureWarnings(True)
            sys.excepthook = _log_uncaught
            threading.excepthook = _log_uncaught_in_thread

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:  # StreamHandler.__init__ and setStream set it
        pass


def _log_uncaught(
    kind: type[BaseException], value: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):  # Ctrl-C: Python's own short message
        sys.__excepthook__(kind, value, traceback)
        return
    logging.getLogger("gnomon").critical("uncaught exception", exc_info=(kind, value, traceback))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if issubclass(args.exc_type, SystemExit):  # as threading's own hook: a thread's exit
        return
    name = args.thread.name if args.thread is not None else "?"
    exc_info = (args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)
    logging.getLogger("gnomon").error("uncaught exception in thread %s", name, exc_info=exc_info)


def _password(uri: str | None) -> str | None:
    if not uri or "://" not in uri:
        return None
    try:
        return urlsplit(uri).password
    except ValueError:  # a malformed URI: its store reports that, not the logs
        return None


__all__ = ["StderrHandler", "configure_logging", "logging_config", "secrets_of", "writes_json"]
