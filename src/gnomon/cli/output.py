"""What every command shares: the context it receives, Rich tables, time formats and JSON output."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum, StrEnum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from gnomon._types import Page
from gnomon.errors import GnomonError, InvalidInput

if TYPE_CHECKING:
    from gnomon.config import Settings
    from gnomon.sdk import Client

T = TypeVar("T")

# Shared by `gnomon server` and `gnomon serve`: both run uvicorn behind the same proxies.
ForwardedAllowIps = Annotated[
    str | None,
    typer.Option(
        help="Proxies whose X-Forwarded-For is believed: addresses or networks, comma-"
        "separated, or '*' (default: GNOMON_FORWARDED_ALLOW_IPS, else none)."
    ),
]

MISSING = "—"


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


OutputOption = Annotated[
    OutputFormat,
    typer.Option("--output", "-o", help="table for people, json for scripts (stdout, no colour)."),
]


# -- the context every command receives ------------------------------------------------------


class CliState:
    """What the root callback and the global options chose, and what commands build from it.

    Settings and client are built on first use: ``gnomon version`` loads neither pydantic nor
    the database, and a ``--workspace`` placed after the command name (parsed after the root
    callback ran) still counts.
    """

    def __init__(
        self,
        workspace: str | None = None,
        debug: bool = False,
        output: OutputFormat | None = None,
        process: str | None = None,
    ) -> None:
        self.workspace = workspace
        self.debug = debug
        self.output = output  # --output before the command name: its default where it has one
        # The command, when gnomon runs as its own process (the console script), not inside
        # a caller's (a test's runner): only then does it set up the process's logging.
        self.process = process

    @cached_property
    def settings(self) -> Settings:
        settings = load_settings(self.workspace)
        if self.process is not None:  # from the first line on, as GNOMON_LOG_* say
            from gnomon.logs.context import start_command
            from gnomon.logs.setup import configure_logging

            configure_logging(settings, self.process)
            # One id for the command: its lines carry it, and so do those of the server it
            # calls (the servers give each request, the worker each step, an id of its own).
            start_command()
        return settings

    @cached_property
    def client(self) -> Client:
        from gnomon._gc import collection_paused

        with collection_paused():  # the SDK's modules and the store live on (_gc.py)
            from gnomon.sdk import Client

            return Client(settings=self.settings)


def load_settings(workspace: str | None) -> Settings:
    """Every GNOMON_* setting; ``InvalidInput`` naming each bad one."""
    from pydantic import ValidationError

    from gnomon.config import Settings

    try:
        return Settings(workspace=workspace) if workspace else Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"invalid GNOMON_* setting: {problems}") from exc


def state_of(ctx: typer.Context) -> CliState:
    state = ctx.find_root().obj
    if not isinstance(state, CliState):  # a sub-app invoked without the root callback
        raise TypeError("gnomon commands must run under the root app (gnomon.cli.app:app)")
    return state


def client_of(ctx: typer.Context) -> Client:
    return state_of(ctx).client


# -- consoles and errors -----------------------------------------------------------------------


TO_THE_DATABASE = "set GNOMON_URI to the database (postgresql://... or sqlite:///...)"


def beside_the_database(ctx: typer.Context, what: str, suffix: str = "") -> None:
    """Raises ``InvalidInput`` (``what``: set GNOMON_URI to the database...) when the CLI
    talks to a server: for the commands that run beside the metadata database."""
    from gnomon.backends import is_server

    if is_server(state_of(ctx).settings.uri or ""):
        raise InvalidInput(f"{what}: {TO_THE_DATABASE}{suffix}")


def console() -> Console:
    """Standard output for tables and text.

    Strings are printed as they are: no console markup, no emoji codes. Run names, params,
    artifact paths and table cells are written by whoever logged them, and Rich would read
    ``[link=...]`` in them as a hidden link, ``[black on black]`` as hidden text and ``[/x]``
    as an error. gnomon styles its own text with ``style=`` and ``rich.text.Text`` instead.
    """
    # Built per call so it writes to whatever sys.stdout is now (CliRunner swaps it).
    return Console(markup=False, emoji=False)


# Control characters a terminal would act on (escape sequences, carriage returns), shown as
# \xNN instead: names and messages people chose must not repaint or retitle the terminal.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0)) if c not in (9, 10)}


def printable(text: str) -> str:
    """``text`` with the control characters a terminal would act on shown as ``\\xNN``."""
    return text.translate(_CONTROLS)


def say(text: str, style: str | None = None) -> None:
    """One message line on stdout, printed as is: no markup, no highlighting, never wrapped
    (a wrapped path or id cannot be copied back into a command)."""
    console().print(text, style=style, markup=False, highlight=False, soft_wrap=True)


def warn(text: str) -> None:
    """A ``warning:`` line: the command went on, but something deserves a look."""
    say(f"warning: {text}", style="yellow")


def hint(text: str) -> None:
    """A dim line: what to run next, where something was saved, what a listing left out."""
    say(text, style="dim")


def report_error(exc: GnomonError, debug: bool) -> None:
    """One red line on stderr; the traceback first when ``--debug`` asked for it. A process
    writing JSON logs (``GNOMON_LOG_FORMAT=json``) logs it instead, as one JSON line."""
    from gnomon.logs.setup import writes_json

    if writes_json():
        import logging  # here: `gnomon version` imports no logging

        logging.getLogger("gnomon.cli").error(exc.message, exc_info=exc if debug else None)
        return
    err = Console(stderr=True)
    if debug:
        from rich.traceback import Traceback  # pygments: slow to import, rarely needed

        err.print(Traceback.from_exception(type(exc), exc, exc.__traceback__))
    # soft_wrap keeps a long message on one line, so scripts can grep it.
    err.print(f"error: {exc.message}", style="red", markup=False, highlight=False, soft_wrap=True)


# -- JSON --------------------------------------------------------------------------------------


def every_page(fetch: Callable[[str | None], Page[T]]) -> list[T]:
    """Every item of a listing: ``fetch(page_token)`` for each page, from the first."""
    found: list[T] = []
    token: str | None = None
    while True:
        page = fetch(token)
        found.extend(page.items)
        token = page.next_page_token
        if token is None:
            return found


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout: plain text, never coloured, always valid JSON."""
    write_text(json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n")


def write_text(text: str) -> None:
    """Write ``text`` to stdout exactly, for another program to read (a YAML manifest piped
    to kubectl): no markup, colour or wrapping, and no newline added."""
    sys.stdout.write(text)


def to_jsonable(value: Any) -> Any:
    """Dataclasses, pages, enums and paths as plain JSON values.

    Non-finite floats become the strings "NaN", "Infinity" and "-Infinity": bare NaN is not
    valid JSON, null would hide which of the three it was, and these are the spellings that
    Python's ``float()`` and JavaScript's ``Number()`` both read back.
    """
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, float):
        return value if math.isfinite(value) else _non_finite(value)
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, Page):
        return [to_jsonable(item) for item in value.items]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


# -- formats -----------------------------------------------------------------------------------


def format_time(ms: int | None, *, compact: bool = False) -> str:
    """Milliseconds since the epoch as local ISO time, to the second.

    ``compact`` gives minutes and drops the UTC offset, for tables of runs where width is short
    and every row shares the offset.
    """
    if ms is None:
        return MISSING
    local = datetime.fromtimestamp(ms / 1000).astimezone()
    if compact:
        return local.replace(tzinfo=None).isoformat(timespec="minutes")
    return local.isoformat(timespec="seconds")


def format_duration(ms: int | None) -> str:
    if ms is None:
        return MISSING
    if ms < 1000:
        return f"{ms}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_size(size: int) -> str:
    """Bytes for people: ``512 B``, ``1.5 KiB``, ``12.0 MiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError  # unreachable: the last unit returns


def format_value(value: object) -> str:
    """A param or metric value for a table cell (metrics to 6 significant digits)."""
    if value is None:
        return MISSING
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def display_uri(uri: str) -> str:
    """A database URI with its password hidden, safe to print."""
    if "@" not in uri:
        return uri
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(uri).render_as_string(hide_password=True)
    except ArgumentError:
        return uri


def new_table(title: str | None, *columns: str) -> Table:
    # Light borders: a run id is 32 characters, so every column of frame counts at 80 wide.
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
    )
    for column in columns:
        table.add_column(column)
    return table
