"""Rich tables of medians and ratios, the closing JSON lines, and ``bench/.results/``."""

from __future__ import annotations

import datetime as dt
import json
import platform
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.runner import SideResult, WorkloadResult

RESULTS_DIR = Path(__file__).resolve().parent / ".results"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def _want(sample: dict[str, Any], key: str, want: Any) -> Any:
    """What ``sample`` must show: a run that logged a subset (extrapolated) stores that subset."""
    if key == "points_stored" and sample.get("extrapolated"):
        return sample.get("points_measured")
    return want


def _check(side: SideResult, expected: dict[str, Any]) -> str:
    if not side.samples:
        return "[red]failed[/]"
    wrong = [
        f"{key}={sample.get(key)}"
        for sample in side.samples
        for key, want in expected.items()
        if sample.get(key) != _want(sample, key, want)
    ]
    return "[red]" + ", ".join(sorted(set(wrong))) + "[/]" if wrong else "[green]ok[/]"


def figures_table(result: WorkloadResult) -> Table:
    """Figures as rows, systems as columns, so the table fits a narrow terminal."""
    workload, sides = result.workload, list(result.sides.values())
    table = Table(title=f"{workload.name} (medians of fresh processes)")
    table.add_column("figure")
    for side in sides:
        table.add_column(side.system, justify="right")
    for figure in workload.figures:
        table.add_row(figure, *(_fmt(side.summary().get(figure)) for side in sides))
    table.add_row("reps", *(str(len(side.samples)) for side in sides))
    table.add_row("check", *(_check(side, result.expected) for side in sides))
    return table


def targets(result: WorkloadResult) -> list[dict[str, Any]]:
    """Each ratio and limit of the workload with the measured value and whether it is met."""
    rows: list[dict[str, Any]] = []
    for ratio in result.workload.ratios:
        gnomon, peer = result.sides.get(ratio.ours), result.sides.get(ratio.peer)
        ours = gnomon.median(ratio.figure) if gnomon else None
        theirs = peer.median(ratio.figure) if peer else None
        if ratio.inverted:
            value = ours / theirs if theirs and ours is not None else None
        else:
            value = theirs / ours if ours and theirs is not None else None
        met = None if value is None else value >= ratio.target
        # Every side measures the same client against the same replaying proxy: the least is
        # the client's cost on a quiet moment, so the ceiling errs towards the generous side.
        floors = [side.median(ratio.floor) for side in result.sides.values()] if ratio.floor else []
        floor = min((value for value in floors if value), default=None)
        rows.append(
            {
                "figure": ratio.figure,
                "system": ratio.ours,
                "versus": ratio.peer,
                "gnomon": ours,
                "peer": theirs,
                "ratio": value,
                "target": f">= {ratio.target:g}x" + (" (gnomon/peer)" if ratio.inverted else ""),
                "met": met,
                "ceiling": theirs / floor if floor and theirs is not None else None,
            }
        )
    for limit in result.workload.limits:
        gnomon = result.sides.get(limit.system)
        ours = gnomon.median(limit.figure) if gnomon else None
        rows.append(
            {
                "figure": limit.figure,
                "system": limit.system,
                "versus": "limit",
                "gnomon": ours,
                "peer": None,
                "ratio": None,
                "target": f"<= {limit.ceiling:g}",
                "met": None if ours is None else ours <= limit.ceiling,
                "ceiling": None,
            }
        )
    return rows


def targets_table(result: WorkloadResult) -> Table:
    title = f"{result.workload.name} targets (ratio = peer / gnomon unless marked gnomon/peer)"
    rows = targets(result)
    # ceiling: peer / the client's own cost, the most any server could show through the client
    ceilings = any(row["ceiling"] is not None for row in rows)
    table = Table(title=title)
    left = ("figure", "system", "versus")
    for column in (*left, "gnomon", "peer", "ratio", "target", "met", *["ceiling"] * ceilings):
        table.add_column(column, justify="left" if column in left else "right")
    for row in rows:
        ratio = f"{row['ratio']:.1f}x" if row["ratio"] is not None else "-"
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}[row["met"]]
        names = [row["figure"], row["system"], row["versus"]]
        cells = [*names, _fmt(row["gnomon"]), _fmt(row["peer"])]
        ceiling = [f"{row['ceiling']:.1f}x" if row["ceiling"] is not None else "-"] * ceilings
        table.add_row(*cells, ratio, row["target"], met, *ceiling)
    return table


def json_lines(result: WorkloadResult) -> list[str]:
    """One line per system: ``{"workload", "system", "seconds", ...median figures}``."""
    lines = []
    for side in result.sides.values():
        line: dict[str, Any] = {"workload": result.workload.name, "system": side.system}
        summary = side.summary()
        line["seconds"] = summary.pop("seconds", None)
        line.update(summary)
        line["reps"] = len(side.samples)
        if side.errors:
            line["errors"] = side.errors
        lines.append(json.dumps(line))
    return lines


def save(result: WorkloadResult) -> Path:
    """Write every sample, median and target of the workload to ``bench/.results/<W>.json``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    document = {
        "workload": result.workload.name,
        "title": result.workload.title,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": {
            "node": platform.node(),
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
        "expected": result.expected,
        "systems": {
            side.system: {"median": side.summary(), "samples": side.samples, "errors": side.errors}
            for side in result.sides.values()
        },
        "targets": targets(result),
    }
    path = RESULTS_DIR / f"{result.workload.name}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def show(results: list[WorkloadResult]) -> None:
    """Print the tables of every workload, then all the JSON lines last."""
    console = Console()
    for result in results:
        console.rule(f"{result.workload.name}: {result.workload.title}")
        console.print(figures_table(result))
        console.print(targets_table(result))
        console.print(f"saved {save(result)}", style="dim")
    for result in results:
        for line in json_lines(result):
            print(line, flush=True)
