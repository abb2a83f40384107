"""A pipeline run's HTML view for notebooks: its status, parameters and each step, built from
tracking's escaped, bounded building blocks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gnomon.pipelines.entities import PipelineRun, StepRun
from gnomon.tracking.html import (
    MAX_ROWS,
    block,
    cell,
    fields_table,
    format_duration,
    format_time,
    key_value_table,
    left_out,
    status,
    table,
    text,
)

_STATUS = {"succeeded": "FINISHED", "failed": "FAILED", "skipped": "KILLED", "cached": "CACHED"}


def run_html(run: PipelineRun, steps: Sequence[StepRun], counts: Mapping[str, int]) -> str:
    ended = run.ended_ms or run.started_ms
    fields = {
        "run": text(run.id),
        "status": status(_STATUS.get(run.status, run.status.upper())),
        "steps": text(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or None),
        "started": format_time(run.started_ms),
        "duration": format_duration(ended - run.started_ms),
        "executor": text(run.executor),
        "trigger": text(run.trigger),
    }
    if run.error:
        fields["error"] = text(run.error, 500)
    rows = [_row(step) for step in steps[:MAX_ROWS]]
    return block(
        f"Pipeline {run.pipeline}",
        fields_table(fields),
        key_value_table("Parameters", run.params),
        table(["step", "status", "attempts", "duration", "outputs"], rows, "Steps"),
        left_out(len(steps), "steps"),
    )


def _row(step: StepRun) -> str:
    outputs = "; ".join(f"{a.name}: {a.preview}" for a in step.artifacts if a.direction == "out")
    error = step.error or {}
    shown = (
        f"{error.get('type')}: {error.get('message', '')}" if step.status == "failed" else outputs
    )
    return (
        "<tr>"
        + cell(text(step.node))
        + cell(status(_STATUS.get(step.status, step.status.upper())))
        + cell(text(step.attempts))
        + cell(format_duration(step.ended_ms - step.started_ms))
        + cell(text(shown or None))
        + "</tr>"
    )


__all__ = ["run_html"]
