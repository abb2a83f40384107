"""Nested runs as a tree: which runs sit under which, in the order a listing gave them.

The CLI draws these; nothing here prints. A run's parent is ``Run.parent_run_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gnomon.tracking.entities import Run

# Deeper runs are drawn at this depth, after a "…", so a long chain stays readable.
MAX_INDENT = 6


@dataclass(frozen=True, slots=True)
class TreeRow:
    """One run of a listing drawn as a tree.

    ``prefix`` holds the tree glyphs before its name (``"│  └─ "``); ``orphan`` is true when
    it has a parent that the listing does not hold, so it is drawn at the top level.
    """

    run: Run
    prefix: str = ""
    orphan: bool = False


def tree_rows(runs: Sequence[Run]) -> list[TreeRow]:
    """``runs`` reordered so each run's children follow it, indented; every run appears once.

    Top-level runs (and runs whose parent is not in ``runs``) keep their order, and so do the
    children of each run.

    Example:
        >>> [row.prefix + row.run.name for row in tree_rows(page.items)]
        ['sweep', '├─ trial-0', '└─ trial-1', 'baseline']
    """
    by_id = {run.id: run for run in runs}
    children: dict[str, list[Run]] = {}
    for run in runs:
        if run.parent_run_id in by_id and run.parent_run_id != run.id:
            children.setdefault(run.parent_run_id, []).append(run)
    rows: list[TreeRow] = []
    placed: set[str] = set()
    for run in runs:
        if run.parent_run_id not in by_id:
            _place(run, children, (), rows, placed)
    for run in runs:  # left over: runs in a cycle of parents, drawn from where it was met
        if run.id not in placed:
            _place(run, children, (), rows, placed)
    return rows


def _place(
    root: Run,
    children: dict[str, list[Run]],
    lasts: tuple[bool, ...],
    rows: list[TreeRow],
    placed: set[str],
) -> None:
    # An explicit stack: a chain of thousands of nested runs must not hit the recursion limit.
    stack: list[tuple[Run, tuple[bool, ...]]] = [(root, lasts)]
    while stack:
        run, flags = stack.pop()
        if run.id in placed:
            continue
        placed.add(run.id)
        orphan = not flags and run.parent_run_id is not None
        rows.append(TreeRow(run, _prefix(flags), orphan))
        below = [child for child in children.get(run.id, ()) if child.id not in placed]
        for index in reversed(range(len(below))):
            stack.append((below[index], (*flags, index == len(below) - 1)))


def _prefix(lasts: tuple[bool, ...]) -> str:
    if not lasts:
        return ""
    shown = lasts[-MAX_INDENT:]
    trunk = "".join("   " if last else "│  " for last in shown[:-1])
    elbow = "└─ " if shown[-1] else "├─ "
    return ("…  " if len(lasts) > MAX_INDENT else "") + trunk + elbow


# -- descendants of one run ------------------------------------------------------------------

# (parent ids, at most this many runs) -> their children
FindChildren = Callable[[Sequence[str], int], Sequence[Run]]


def descendants(
    find_children: FindChildren, run_id: str, max_depth: int, max_runs: int
) -> tuple[list[Run], bool]:
    """The runs below ``run_id``, level by level, up to ``max_depth`` levels and ``max_runs``
    runs; and whether more were left out. One ``find_children`` call per level, and one more
    to know whether the limits cut something off."""
    found: list[Run] = []
    seen = {run_id}
    level = [run_id]
    depth = 0
    while level:
        room = max_runs - len(found)
        if depth == max_depth or room <= 0:
            return found, bool(find_children(level, 1))
        batch = [run for run in find_children(level, room + 1) if run.id not in seen]
        if len(batch) > room:
            return found + batch[:room], True
        found += batch
        seen.update(run.id for run in batch)
        level = [run.id for run in batch]
        depth += 1
    return found, False
