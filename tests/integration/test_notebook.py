"""gnomon in a real Jupyter kernel: runs, searches and comparisons display as HTML, and a
progress bar draws as HTML that is updated in place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

CELLS = [
    """\
import gnomon
from gnomon.progress import progress_bar

gnomon.set_experiment("notebook")
with gnomon.start_run(name="<b>first</b>") as first:
    gnomon.log_params({"model": "rf"})
    gnomon.log_metric("loss", 0.3)
with gnomon.start_run(name="second") as second:
    gnomon.log_params({"model": "gb"})
    gnomon.log_metric("loss", 0.2)""",
    "first",
    "gnomon.search_runs()",
    "gnomon.get_client().compare_runs([first.id, second.id])",
    """\
with progress_bar("crunching", total=3, unit="steps") as advance:
    for done in range(1, 4):
        advance(done, 3)""",
]


@pytest.fixture
def executed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[dict[str, Any]]]:
    """Each cell's outputs, the notebook run in a fresh kernel on a fresh GNOMON_HOME."""
    for name in ("GNOMON_URI", "GNOMON_ARTIFACTS", "GNOMON_WORKSPACE", "GNOMON_EXPERIMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GNOMON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GNOMON_CAPTURE_ENVIRONMENT", "false")
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's own deprecation warning
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={}).execute()
    return [cell.outputs for cell in notebook.cells]


def _html(outputs: list[dict[str, Any]]) -> str:
    shown = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert len(shown) == 1, outputs
    return str(shown[0])


def test_gnomon_objects_and_progress_render_as_html(executed: list[list[dict[str, Any]]]) -> None:
    setup, run, page, comparison, progress = executed
    assert not [o for o in setup if o["output_type"] == "error"], setup
    run_html = _html(run)
    assert "&lt;b&gt;first&lt;/b&gt;" in run_html and "<b>first" not in run_html
    assert "loss" in run_html and "0.3" in run_html
    assert "second" in _html(page) and "&lt;b&gt;first" in _html(page)
    assert "0.2 ★" in _html(comparison)
    bar = _html(progress)  # the final state, as the display handle last updated it
    assert "<progress" in bar and "3/3 steps" in bar and "crunching" in bar
