"""Nested runs as a tree: order, glyphs, runs whose parent is elsewhere, and bounded descent."""

from __future__ import annotations

from collections.abc import Sequence

from gnomon.tracking.entities import Run, RunStatus
from gnomon.tracking.tree import MAX_INDENT, descendants, tree_rows


def _run(run_id: str, parent: str | None = None) -> Run:
    return Run(run_id, "e", run_id, RunStatus.FINISHED, 0, None, "ann", "", parent_run_id=parent)


def _drawn(runs: Sequence[Run]) -> list[str]:
    return [row.prefix + row.run.name + (" *" if row.orphan else "") for row in tree_rows(runs)]


def test_children_follow_their_parent_in_the_listing_order() -> None:
    runs = [
        _run("c2", "sweep"),
        _run("c1", "sweep"),
        _run("solo"),
        _run("g1", "c1"),
        _run("sweep"),
        _run("c3", "sweep"),
    ]
    assert _drawn(runs) == ["solo", "sweep", "├─ c2", "├─ c1", "│  └─ g1", "└─ c3"]


def test_a_run_whose_parent_is_not_listed_stays_at_the_top_marked() -> None:
    runs = [_run("a", "gone"), _run("b", "a"), _run("top")]
    assert _drawn(runs) == ["a *", "└─ b", "top"]


def test_a_cycle_of_parents_still_draws_every_run_once() -> None:
    assert _drawn([_run("x", "y"), _run("y", "x"), _run("self", "self")]) == [
        "x *",
        "└─ y",
        "self *",
    ]


def test_a_deep_chain_is_indented_at_most_max_indent_levels() -> None:
    runs = [_run("r0")] + [_run(f"r{i}", f"r{i - 1}") for i in range(1, 3000)]
    rows = tree_rows(runs)
    assert len(rows) == 3000 and rows[-1].run.name == "r2999"
    assert rows[MAX_INDENT].prefix == "   " * (MAX_INDENT - 1) + "└─ "
    assert rows[-1].prefix == "…  " + "   " * (MAX_INDENT - 1) + "└─ "


class _Runs:
    """Runs held in a list, answering "children of these ids" as a search would."""

    def __init__(self, runs: list[Run]) -> None:
        self.runs = runs
        self.calls = 0

    def __call__(self, parent_ids: Sequence[str], limit: int) -> list[Run]:
        self.calls += 1
        return [run for run in self.runs if run.parent_run_id in parent_ids][:limit]


def test_descendants_level_by_level() -> None:
    runs = _Runs([_run("a", "root"), _run("b", "root"), _run("a1", "a"), _run("other")])
    found, more = descendants(runs, "root", max_depth=3, max_runs=10)
    assert [run.id for run in found] == ["a", "b", "a1"] and not more


def test_descendants_say_when_the_limits_cut_runs_off() -> None:
    runs = _Runs([_run("a", "root"), _run("b", "root"), _run("a1", "a"), _run("a2", "a1")])
    found, more = descendants(runs, "root", max_depth=2, max_runs=10)
    assert [run.id for run in found] == ["a", "b", "a1"] and more
    found, more = descendants(runs, "root", max_depth=5, max_runs=2)
    assert [run.id for run in found] == ["a", "b"] and more
    found, more = descendants(runs, "root", max_depth=5, max_runs=1)
    assert [run.id for run in found] == ["a"] and more
    found, more = descendants(runs, "root", max_depth=5, max_runs=4)
    assert len(found) == 4 and not more
