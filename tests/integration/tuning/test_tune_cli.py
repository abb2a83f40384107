"""``gnomon tune``: a study from YAML (run, then continued with overrides), shown with its
report, listed and deleted; a wrong config is one error line naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.cli import fails, ok, ok_json

OBJECTIVE = """
def objective(trial):
    return (trial.params["x"] - trial.fixed["target"]) ** 2
"""

CONFIG = """
study: cli-bowl
objective: cli_tuning_objective:objective
direction: minimize
n_trials: 12
seed: 0
params: {target: 3}
space:
  x: {type: float, low: -10, high: 10}
  kind: [a, b]
"""


@pytest.fixture
def folder(gnomon_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cli_tuning_objective.py").write_text(OBJECTIVE)
    (tmp_path / "study.yaml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_run_continue_show_list_and_delete(folder: Path) -> None:
    first = ok("tune", "study.yaml")
    assert "best trial" in first and "gnomon tune show cli-bowl" in first
    more = ok_json("tune", "run", "study.yaml", "--n-trials", "3")
    assert more["states"] == {"COMPLETE": 15}
    assert abs(more["best"][0]["params"]["x"] - 3) < 3

    shown = ok("tune", "show", "cli-bowl", "--html", str(folder / "report.html"))
    assert "parameter importances" in shown and "best 10 trials" in shown
    assert "best value so far" in shown or "so far, by trial" in shown
    page = (folder / "report.html").read_text()
    assert page.startswith("<!doctype html>") and "cli-bowl" in page and "<svg" in page

    listed = ok_json("tune", "list")
    assert [s["name"] for s in listed] == ["cli-bowl"]
    ok("tune", "delete", "cli-bowl", "--yes")
    assert ok_json("tune", "list") == []
    assert "no study 'cli-bowl'" in fails("tune", "show", "cli-bowl")


def test_a_wrong_config_names_the_field(folder: Path) -> None:
    (folder / "bad.yaml").write_text(CONFIG.replace("n_trials: 12", "n_trials: -1"))
    assert "n_trials" in fails("tune", "bad.yaml")
    (folder / "typo.yaml").write_text(CONFIG + "samplr: tpe\n")
    assert "samplr" in fails("tune", "typo.yaml")
    (folder / "broken.yaml").write_text("study: [unclosed\n")
    assert "not valid YAML" in fails("tune", "broken.yaml")
    assert "cannot read" in fails("tune", "missing.yaml")
    (folder / "wrong.yaml").write_text(CONFIG.replace("cli_tuning_objective", "no_such_module"))
    assert "cannot import 'no_such_module'" in fails("tune", "wrong.yaml")


def test_register_the_best_from_the_command_line(folder: Path) -> None:
    (folder / "tree.yaml").write_text(
        "objective: tests.integration.tuning.objectives:fits_a_tree\n"
        "direction: maximize\nn_trials: 3\nseed: 0\n"
        "space:\n  depth: {type: int, low: 1, high: 4}\n"
    )
    shown = ok("tune", "tree.yaml", "--register", "cli-tree", "--alias", "staging")
    assert "registered cli-tree version 1" in shown
    assert "alias needs register" in fails("tune", "tree.yaml", "--alias", "staging")
