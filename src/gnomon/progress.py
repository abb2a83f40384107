"""Progress bars for long SDK calls, in a Jupyter notebook or a terminal, and nowhere else.

In a notebook the bar is an HTML ``<progress>`` element in the cell's output, updated in place
through IPython's display handles. That needs no widget library (Rich's live display in
Jupyter needs ipywidgets and otherwise warns on every refresh), and a saved notebook keeps the
final state. In a terminal it is a Rich bar on stderr, as tqdm draws it, so a script's stdout
stays its own; it disappears once done. In logs, pipes, CI and tests nothing is drawn.
"""

from __future__ import annotations

import html
import importlib
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

ProgressCallback = Callable[[int, int | None], None]
"""Called with (units done, total units or ``None`` when unknown)."""

_NOTEBOOK_SHELLS = ("ZMQInteractiveShell",)  # Jupyter's kernel: notebook, lab, VS Code
_REFRESH_SECONDS = 0.1  # a notebook redraws at most this often: each update is a message


@contextmanager
def progress_bar(
    description: str, *, total: int | None = None, unit: str = ""
) -> Iterator[ProgressCallback]:
    """A progress bar for the ``with`` block, shown where someone can see it.

    Yields the function to call with (done, total); pass it as an ``on_progress`` callback.

    Example:
        >>> with progress_bar("predicting", unit="rows") as advance:
        ...     predict_file(uri, "in.parquet", "out.parquet", on_progress=advance)
    """
    if in_notebook():
        bar: _NotebookBar | _TerminalBar | None = _NotebookBar(description, total, unit)
    elif sys.stderr is not None and sys.stderr.isatty():
        bar = _TerminalBar(description, total)
    else:
        bar = None
    if bar is None:
        yield _ignore
        return
    try:
        yield bar.update
    finally:
        bar.close()


def in_notebook() -> bool:
    """Whether this code runs in a Jupyter kernel (never imports IPython itself)."""
    ipython_module = sys.modules.get("IPython")
    if ipython_module is None:
        return False
    try:
        shell = ipython_module.get_ipython()
    except Exception:  # an IPython too old or half imported: not a notebook we can draw in
        return False
    kind = type(shell)
    return kind.__name__ in _NOTEBOOK_SHELLS or "google.colab" in kind.__module__


def _ignore(done: int, total: int | None) -> None:
    pass


class _NotebookBar:
    def __init__(self, description: str, total: int | None, unit: str) -> None:
        # IPython has no type hints: held as Any so strict type checking accepts the calls.
        self._ipython: Any = importlib.import_module("IPython.display")
        self._description = description
        self._unit = f" {unit}" if unit else ""
        self._done, self._total = 0, total
        self._started = time.monotonic()
        self._drawn = 0.0
        self._handle: Any = self._ipython.display(self._ipython.HTML(self._html()), display_id=True)

    def update(self, done: int, total: int | None) -> None:
        self._done, self._total = done, total if total is not None else self._total
        now = time.monotonic()
        if now - self._drawn >= _REFRESH_SECONDS or done == self._total:
            self._draw(now)

    def close(self) -> None:
        self._draw(time.monotonic())

    def _draw(self, now: float) -> None:
        self._drawn = now
        if self._handle is not None:
            self._handle.update(self._ipython.HTML(self._html()))

    def _html(self) -> str:
        done, total = self._done, self._total
        value = "" if total is None else f' value="{min(done, total)}" max="{max(total, 1)}"'
        count = f"{done:,}" if total is None else f"{done:,}/{total:,}"
        elapsed = time.monotonic() - self._started
        return (
            '<div style="font-family:monospace">'
            f"{html.escape(self._description)} "
            f'<progress{value} style="width:20em;vertical-align:middle"></progress> '
            f"{count}{html.escape(self._unit)} · {elapsed:.1f}s</div>"
        )


class _TerminalBar:
    def __init__(self, description: str, total: int | None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        self._progress = Progress(
            *columns, TimeElapsedColumn(), console=Console(stderr=True), transient=True
        )
        self._task = self._progress.add_task(description, total=total)
        self._progress.start()

    def update(self, done: int, total: int | None) -> None:
        self._progress.update(self._task, completed=done, total=total)

    def close(self) -> None:
        self._progress.stop()
