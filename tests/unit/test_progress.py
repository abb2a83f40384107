"""Progress bars: drawn in a terminal (on stderr) and in notebooks, silent elsewhere.

The notebook side runs in a real kernel: tests/integration/test_notebook.py.
"""

from __future__ import annotations

import io
import sys

import pytest

from gnomon.progress import in_notebook, progress_bar


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, as a real one would."""

    def isatty(self) -> bool:
        return True


def test_nothing_is_drawn_where_nobody_looks(capsys: pytest.CaptureFixture[str]) -> None:
    assert not in_notebook()
    with progress_bar("predicting", total=10, unit="rows") as advance:
        for done in range(11):
            advance(done, 10)
    assert capsys.readouterr() == ("", "")


def test_a_terminal_gets_a_bar_on_stderr_that_goes_away(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress_bar("predicting", total=4) as advance:
        advance(2, 4)
    drawn = terminal.getvalue()
    assert "predicting" in drawn and "2/4" in drawn
    assert _erased(drawn)
    assert capsys.readouterr().out == ""  # stdout stays the program's


def test_the_bar_closes_when_the_block_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with pytest.raises(RuntimeError), progress_bar("predicting") as advance:
        advance(1, None)
        raise RuntimeError("model failed")
    assert _erased(terminal.getvalue())


def _erased(drawn: str) -> bool:
    """Whether the bar was transient: the cursor shown again and the bar's line cleared."""
    return "\x1b[?25h" in drawn and drawn.endswith("\x1b[2K")
