"""Nested runs in ``gnomon runs list|search|show``: trees, ``--parent`` and ``--flat``."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import gnomon
from gnomon._types import now_ms
from gnomon.tracking import cli
from tests.fixtures.cli import fails, ok, ok_json

_clock = itertools.count(now_ms() - 60_000, 1000)
_ROW = re.compile(r"^ *[0-9a-f]{32} +(.*?) +(?:RUNNING|FINISHED|FAILED|KILLED) ", re.MULTILINE)


@dataclass
class Sweep:
    client: gnomon.Client
    sweep: str
    trials: list[str]
    fold: str
    solo: str


@pytest.fixture
def sweep(gnomon_home: Path) -> Sweep:
    """sweep > trial-0, trial-1 > fold; and solo, a run of its own; oldest first."""
    client = gnomon.Client()
    exp = client.create_experiment("tune").id

    def run(name: str, parent: str | None = None) -> str:
        started = next(_clock)  # distinct start times: listings order by them
        return client.create_run(exp, name, parent_run_id=parent, start_time=started).id

    top = run("sweep")
    trials = [run(f"trial-{i}", top) for i in range(2)]
    fold = run("fold", trials[1])
    client.log_metric(trials[0], "acc", 0.9)
    return Sweep(client, top, trials, fold, run("solo"))


def _names(text: str) -> list[str]:
    """The name column of a runs table: between each run id and its status."""
    return [m[1] for m in _ROW.finditer(text)]


def test_list_draws_children_under_their_parent(sweep: Sweep) -> None:
    assert _names(ok("runs", "list", "-e", "tune")) == [
        "solo",
        "sweep",
        "├─ trial-1",
        "│  └─ fold",
        "└─ trial-0",
    ]


def test_json_stays_a_flat_list_with_parents(sweep: Sweep) -> None:
    runs = ok_json("runs", "list", "-e", "tune")
    assert [(r["name"], r["parent_run_id"]) for r in runs] == [
        ("solo", None),
        ("fold", sweep.trials[1]),
        ("trial-1", sweep.sweep),
        ("trial-0", sweep.sweep),
        ("sweep", None),
    ]


def test_flat_keeps_the_order_found(sweep: Sweep) -> None:
    assert _names(ok("runs", "list", "-e", "tune", "--flat")) == [
        "solo",
        "fold",
        "trial-1",
        "trial-0",
        "sweep",
    ]


def test_a_child_whose_parent_is_not_listed_is_marked(sweep: Sweep) -> None:
    text = ok("runs", "search", "-e", "tune", "-f", "name LIKE 'trial%'")
    assert _names(text) == [
        f"trial-1 (child of {sweep.sweep[:8]})",
        f"trial-0 (child of {sweep.sweep[:8]})",
    ]


def test_parent_lists_the_children_of_a_run(sweep: Sweep) -> None:
    children = ok_json("runs", "list", "--parent", sweep.sweep)  # its experiment by default
    assert [r["name"] for r in children] == ["trial-1", "trial-0"]
    table = ok("runs", "list", "--parent", sweep.sweep)
    assert _names(table) == ["trial-1", "trial-0"]  # not marked: their parent is the one asked
    found = ok_json(
        "runs", "search", "-e", "tune", "--parent", sweep.sweep, "-f", "metrics.acc > 0"
    )
    assert [r["id"] for r in found] == [sweep.trials[0]]
    assert ok_json("runs", "list", "--parent", sweep.fold) == []


def test_parent_must_exist_and_something_must_be_named(sweep: Sweep) -> None:
    assert fails("runs", "list", "--parent", "ghost") == "error: run 'ghost' not found"
    line = fails("runs", "list")
    assert line == "error: name an experiment with --experiment, or a run with --parent"


def test_top_level_runs_by_filter(sweep: Sweep) -> None:
    found = ok_json("runs", "search", "-e", "tune", "-f", "parent_run_id IS NULL")
    assert [r["name"] for r in found] == ["solo", "sweep"]


def test_show_names_the_parent_and_draws_the_runs_below(sweep: Sweep) -> None:
    trial = ok("runs", "show", sweep.trials[1])
    assert f"parent run   sweep ({sweep.sweep})" in trial
    assert "Child runs" in trial and f"└── fold  {sweep.fold}  RUNNING" in trial
    text = ok("runs", "show", sweep.sweep)
    tree = text[text.index("Child runs") :].splitlines()
    assert [line.rstrip().rsplit("  ", 2)[0] for line in tree[1:4]] == [
        "├── trial-0",
        "└── trial-1",
        "    └── fold",
    ]
    assert "Child runs" not in ok("runs", "show", sweep.solo)


def test_show_bounds_the_tree(sweep: Sweep, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "MAX_TREE_RUNS", 2)
    text = ok("runs", "show", sweep.sweep)
    assert "fold" not in text
    assert "showing 2 runs, down to level 3; gnomon runs list --parent RUN_ID" in text
    monkeypatch.setattr(cli, "MAX_TREE_RUNS", 50)
    monkeypatch.setattr(cli, "MAX_TREE_DEPTH", 1)
    text = ok("runs", "show", sweep.sweep)
    assert "trial-1" in text and "fold" not in text and "down to level 1" in text
