"""examples/notebooks/track_compare_register.ipynb, run as written in a real kernel against a
fresh embedded GNOMON_HOME: it tracks three runs, compares them and registers the best."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from gnomon.config import Settings
from gnomon.sdk import Client

NOTEBOOK = Path(__file__).parents[2] / "examples" / "notebooks" / "track_compare_register.ipynb"


@pytest.fixture
def executed(gnomon_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The notebook after a run in a fresh kernel, in a folder of its own."""
    monkeypatch.setenv("GNOMON_CAPTURE_ENVIRONMENT", "false")
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's own deprecation warning
    folder = tmp_path / "notebooks"
    folder.mkdir()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": folder}}
    )
    client.execute()
    return notebook


def _outputs(notebook: Any) -> list[list[dict[str, Any]]]:
    return [cell.outputs for cell in notebook.cells if cell.cell_type == "code"]


def _html(outputs: list[dict[str, Any]]) -> str:
    return "".join(o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {}))


def test_it_tracks_compares_and_registers_the_best_as_champion(
    executed: Any, gnomon_home: Path
) -> None:
    cells = _outputs(executed)
    assert not [o for outputs in cells for o in outputs if o["output_type"] == "error"]
    client = Client(settings=Settings(home=gnomon_home))
    version = client.registry.get_version("breast-cancer", "champion")
    runs = client.search_runs("notebook-example", order_by=["metrics.f1 DESC"]).items
    assert version.version == 1 and version.aliases == ["champion"]
    assert sorted(run.name for run in runs) == ["forest-50", "logreg-c0.1", "logreg-c10"]
    assert version.run_id == runs[0].id  # the best by f1 on the test split
    printed = "".join(o.get("text", "") for o in cells[-1])
    assert printed.startswith("version 1 as champion, accuracy on the test split 0.9"), printed

    _, _, page, frame, comparison, registered, _ = cells  # what each cell displays
    assert all(name in _html(page) for name in ("logreg-c0.1", "logreg-c10", "forest-50"))
    assert "metrics.f1" in _html(frame)  # the DataFrame, as pandas shows it
    assert runs[0].name in _html(comparison) and runs[1].name in _html(comparison)
    assert "breast-cancer" in _html(registered) and "champion" in _html(registered)
