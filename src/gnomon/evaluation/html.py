"""The notebook view of an evaluation (Jupyter calls ``EvaluationResult._repr_html_``).

Built from the run views' blocks (:mod:`gnomon.tracking.html`): every value escaped and cut,
every table bounded, inline styles only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from gnomon.tracking.comparison import lower_is_better
from gnomon.tracking.html import MAX_ROWS, block, cell, fields_table, left_out, table, text

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.evaluation.result import EvaluationResult
    from gnomon.evaluation.verdict import Verdict

MAX_SEGMENT_COLUMNS = 16  # the segment, its count, and up to seven metrics twice
_NOTE = "color:gray;font-style:italic;margin:0 0 0.6em 0"
_VERDICTS = {True: ("passed", "#2e7d32"), False: ("FAILED", "#c62828")}


def evaluation_html(result: EvaluationResult) -> str:
    """What was evaluated, the metrics (beside the baseline's), the verdict's checks, the
    segments, then the notes."""
    fields = {"run id": text(result.run_id), "model": text(result.model), "rows": text(result.rows)}
    if result.baseline is not None:
        fields["baseline"] = text(result.baseline)
    if result.verdict is not None:
        fields["verdict"] = _verdict(result.verdict.passed)
    parts = [fields_table(fields), _metrics(result)]
    if result.verdict is not None:
        parts.append(_checks(result.verdict))
    if result.segments is not None:
        parts.append(_segments(result.segments))
    parts += [f'<p style="{_NOTE}">{text(note, 1000)}</p>' for note in result.notes]
    return block(f"{result.model_type} evaluation", *parts)


def _metrics(result: EvaluationResult) -> str:
    base = result.baseline_metrics
    headers = ["metric", "model", *(["baseline", "better by"] if base is not None else [])]
    rows = []
    for metric, value in list(result.metrics.items())[:MAX_ROWS]:
        cells = [cell(text(metric)), cell(text(value))]
        if base is not None:
            other = base.get(metric, math.nan)
            gain = other - value if lower_is_better(metric) else value - other
            cells += [cell(text(other)), cell(text(gain))]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return table(headers, rows, "Metrics") + left_out(len(result.metrics), "metrics")


def _verdict(passed: bool) -> str:
    word, colour = _VERDICTS[passed]
    return f'<span style="color:{colour};font-weight:bold">{word}</span>'


def _checks(verdict: Verdict) -> str:
    rows = (
        f"<tr>{cell(text(c.metric))}{cell(_verdict(c.passed))}{cell(text(c.reason, 400))}</tr>"
        for c in verdict.checks[:MAX_ROWS]
    )
    caption = f"Verdict: {_verdict(verdict.passed)}"
    return table(["metric", "check", "reason"], rows, caption) + left_out(
        len(verdict.checks), "checks"
    )


def _segments(frame: pd.DataFrame) -> str:
    columns = list(frame.columns)[:MAX_SEGMENT_COLUMNS]
    rows = (
        f"<tr>{''.join(cell(text(value)) for value in record)}</tr>"
        for record in frame[columns].head(MAX_ROWS).itertuples(index=False)
    )
    return (
        table(columns, rows, "Segments")
        + left_out(len(frame), "segments")
        + left_out(len(frame.columns), "columns", MAX_SEGMENT_COLUMNS)
    )
