"""``gnomon pipeline`` and ``gnomon lineage`` as a user types them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.cli import fails, invoke, ok, ok_json

TARGET = "tests.integration.pipelines.core_steps"


def test_run_show_logs_list_and_lineage(gnomon_home: Path, tmp_path: Path) -> None:
    out = ok("pipeline", "run", f"{TARGET}:tables", "-p", "n=4", "-p", f"folder={tmp_path}")
    assert "succeeded: 6 succeeded" in out
    runs = ok_json("pipeline", "list")
    run_id = runs[0]["id"]
    assert runs[0]["pipeline"] == "tables" and runs[0]["params"] == {
        "n": 4,
        "folder": str(tmp_path),
    }
    again = ok_json("pipeline", "run", f"{TARGET}:tables", "-p", "n=4", "-p", f"folder={tmp_path}")
    assert sorted(s["status"] for s in again["steps"]).count("cached") == 5
    shown = ok("pipeline", "show", run_id)
    assert "column_sum" in shown and "succeeded" in shown and "output: 15.0" in shown
    assert "printed hello" in ok("pipeline", "logs", run_id, "chatty")
    steps = ok_json("pipeline", "show", run_id)["steps"]
    frame = next(s for s in steps if s["node"] == "frame")
    out_digest = next(a["digest"] for a in frame["artifacts"] if a["direction"] == "out")
    tree = ok("lineage", f"artifact:{out_digest}")
    assert "step frame" in tree and "step column_sum" in tree
    graph = ok_json("lineage", f"artifact:{out_digest}", "--downstream", "--depth", "1")
    assert {n["label"] for n in graph["nodes"]} >= {"column_sum"}
    assert all(n["label"] != "frame" for n in graph["nodes"])


def test_a_failed_run_exits_non_zero_and_resume_finishes_it(
    gnomon_home: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    marker.touch()
    result = invoke("pipeline", "run", f"{TARGET}:resumable", "-p", f"marker={marker}")
    assert result.exit_code == 1
    assert "step fails_if failed: ValueError" in result.stdout
    run_id = ok_json("pipeline", "list")[0]["id"]
    marker.unlink()
    resumed = ok_json("pipeline", "resume", run_id)
    assert resumed["run"]["resumed_from"] == run_id
    assert {s["node"]: s["status"] for s in resumed["steps"]}["fails_if"] == "succeeded"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("pipeline", "run", "no_such_module_x:p"), "cannot import 'no_such_module_x'"),
        (("pipeline", "run", f"{TARGET}:nothing"), "has no 'nothing'"),
        (("pipeline", "run", f"{TARGET}:emit"), "is a Step, not a @gnomon.pipeline"),
        (("pipeline", "run", "plain"), "module:attribute"),
        (("pipeline", "run", f"{TARGET}:retrying", "-p", "speed=3"), "has no parameter 'speed'"),
        (("pipeline", "run", f"{TARGET}:retrying", "-p", "failures=x"), "takes int, not 'x'"),
        (("pipeline", "run", f"{TARGET}:tables", "--executor", "spark"), "unknown executor"),
        (("pipeline", "show", "nope"), "no pipeline run 'nope'"),
        (("lineage", "cake:1"), "KIND:NAME"),
        (("lineage", "model:m/1", "--depth", "99"), "depth must be 1..50"),
    ],
)
def test_bad_input_is_one_clear_line(
    gnomon_home: Path, args: tuple[str, ...], message: str
) -> None:
    assert message in fails(*args)
