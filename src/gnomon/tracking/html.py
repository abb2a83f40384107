"""HTML views of runs for notebooks (Jupyter calls ``_repr_html_``).

Every user-supplied string is escaped, every table is bounded (what was left out is counted
under it), and the styling is inline: no external CSS or JavaScript, so a view renders the
same in JupyterLab, VS Code, a saved notebook and GitHub's preview.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gnomon.tracking.comparison import CompareRow, RunComparison
    from gnomon.tracking.entities import Run

MAX_ROWS = 50  # rows of one table (keys of a run, runs of a page, keys of a comparison)
MAX_RUN_COLUMNS = 20  # runs side by side in a comparison
MAX_METRIC_COLUMNS = 6  # metric columns of a runs table
MAX_TEXT = 200  # characters of one cell

_TABLE = "border-collapse:collapse;margin:0.2em 0 0.6em 0;font-size:0.9em"
_CELL = "border:1px solid rgba(128,128,128,0.35);padding:2px 8px;text-align:left"
_HEAD = _CELL + ";background:rgba(128,128,128,0.12)"
_DIFFERS = "background:rgba(255,193,7,0.25)"
_BEST = "font-weight:bold"
_NOTE = "color:gray;font-size:0.85em;margin:0 0 0.6em 0"
_MISSING = "—"
_STATUS_COLOURS = {"FINISHED": "#2e7d32", "FAILED": "#c62828", "KILLED": "#ef6c00"}


# -- building blocks (the registry's views use them too) ---------------------------------------


def text(value: object, limit: int = MAX_TEXT) -> str:
    """``value`` as escaped HTML text, cut to ``limit`` characters (the cut marked …)."""
    if value is None:
        return _MISSING
    shown = format_value(value)
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return html.escape(shown, quote=True)


def format_value(value: object) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def format_time(ms: int | None) -> str:
    if ms is None:
        return _MISSING
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_duration(ms: int | None) -> str:
    if ms is None:
        return _MISSING
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def cell(content: str, style: str = "", head: bool = False) -> str:
    """One table cell around ``content``, which must already be escaped HTML."""
    tag = "th" if head else "td"
    css = (_HEAD if head else _CELL) + (f";{style}" if style else "")
    return f'<{tag} style="{css}">{content}</{tag}>'


def table(headers: Sequence[str], rows: Iterable[str], caption: str = "") -> str:
    """A table of escaped ``headers`` over ready ``rows`` (``<tr>`` strings)."""
    head = "".join(cell(text(h, 80), head=True) for h in headers)
    title = f'<caption style="text-align:left;font-weight:bold">{caption}</caption>'
    return (
        f'<table style="{_TABLE}">{title if caption else ""}'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def fields_table(fields: Mapping[str, str]) -> str:
    """Escaped field names beside ``fields``' values, which must already be escaped HTML."""
    rows = (f"<tr>{cell(html.escape(k), head=True)}{cell(v)}</tr>" for k, v in fields.items())
    return f'<table style="{_TABLE}"><tbody>{"".join(rows)}</tbody></table>'


def key_value_table(title: str, values: Mapping[str, object]) -> str:
    """``values`` by key, at most ``MAX_ROWS`` of them; empty when there are none."""
    if not values:
        return ""
    keys = sorted(values)
    rows = (f"<tr>{cell(text(k))}{cell(text(values[k]))}</tr>" for k in keys[:MAX_ROWS])
    return table(["key", "value"], rows, html.escape(title)) + left_out(len(keys), "keys")


def left_out(total: int, what: str, shown: int = MAX_ROWS) -> str:
    """A note saying how many of ``total`` items were not shown; empty when none were."""
    if total <= shown:
        return ""
    return f'<p style="{_NOTE}">{total - shown:,} more {what} not shown (of {total:,}).</p>'


def status(value: str) -> str:
    colour = _STATUS_COLOURS.get(value, "#1565c0")
    return f'<span style="color:{colour};font-weight:bold">{html.escape(value)}</span>'


def block(title: str, *parts: str) -> str:
    """A titled section: ``title`` is escaped, ``parts`` are ready HTML."""
    return f'<div><div style="font-weight:bold">{text(title)}</div>{"".join(parts)}</div>'


# -- runs ----------------------------------------------------------------------------------


def run_html(run: Run) -> str:
    """One run: its attributes, then its params, latest metrics and tags."""
    fields: dict[str, str] = {
        "id": text(run.id),
        "status": status(run.status.value),
        "experiment id": text(run.experiment_id),
        "started": format_time(run.start_time),
        "ended": format_time(run.end_time),
        "duration": format_duration(run.duration_ms),
        "user": text(run.user),
    }
    if run.parent_run_id:
        fields["parent run"] = text(run.parent_run_id)
    if run.description:
        fields["description"] = text(run.description)
    return block(
        f"Run {run.name}",
        fields_table(fields),
        key_value_table("Params", run.params),
        key_value_table("Metrics (latest)", run.metrics),
        key_value_table("Tags", run.tags),
    )


def runs_html(runs: Sequence[Run], more: bool = False) -> str:
    """A table of runs, one row each, with the first metric columns (by key)."""
    if not runs:
        return '<p style="font-style:italic">No runs.</p>'
    keys = sorted({k for run in runs for k in run.metrics})
    shown = keys[:MAX_METRIC_COLUMNS]
    headers = ["name", "run id", "status", "started", "duration", *shown]
    rows = (_run_row(run, shown) for run in runs[:MAX_ROWS])
    notes = left_out(len(runs), "runs") + left_out(len(keys), "metric columns", len(shown))
    if more:
        notes += f'<p style="{_NOTE}">More runs on the next page (next_page_token).</p>'
    return table(headers, rows) + notes


def _run_row(run: Run, keys: Sequence[str]) -> str:
    cells = [
        cell(text(run.name)),
        cell(f"<code>{text(run.id)}</code>"),
        cell(status(run.status.value)),
        cell(format_time(run.start_time)),
        cell(format_duration(run.duration_ms)),
        *(cell(text(run.metrics.get(key))) for key in keys),
    ]
    return f"<tr>{''.join(cells)}</tr>"


# -- comparisons ---------------------------------------------------------------------------


def comparison_html(comparison: RunComparison) -> str:
    """Params and metrics side by side: differing rows highlighted, the best values bold and
    starred (★)."""
    runs = comparison.runs[:MAX_RUN_COLUMNS]
    headers = ["key", *(f"{run.name} ({run.id[:8]})" for run in runs)]
    parts = []
    for section in ("params", "metrics"):
        rows = [row for row in comparison.rows if row.section == section]
        if rows:
            body = (_compare_row(row, runs) for row in rows[:MAX_ROWS])
            caption = html.escape(section.capitalize())
            parts.append(table(headers, body, caption) + left_out(len(rows), section))
    if not parts:
        parts.append('<p style="font-style:italic">The runs have no params or metrics.</p>')
    parts.append(left_out(len(comparison.runs), "runs", MAX_RUN_COLUMNS))
    different = len(comparison.differing)
    summary = f"{different} of {len(comparison.rows)} keys differ"
    return block(f"{len(comparison.runs)} runs compared: {summary}", *parts)


def _compare_row(row: CompareRow, runs: Sequence[Run]) -> str:
    cells = [cell(text(row.key))]
    for run in runs:
        value = text(row.values.get(run.id))
        best = run.id in row.best
        cells.append(cell(f"{value} ★" if best else value, _BEST if best else ""))
    style = f' style="{_DIFFERS}"' if row.differs else ""
    return f"<tr{style}>{''.join(cells)}</tr>"
