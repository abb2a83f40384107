"""What the pipelines capability stores: pipeline runs, step runs and their artifacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from gnomon.errors import NotFound

RunStatus = Literal["running", "succeeded", "failed"]
StepStatus = Literal["succeeded", "cached", "failed", "skipped"]
FINAL_STEP = ("succeeded", "cached", "failed", "skipped")


@dataclass(frozen=True, slots=True)
class StepArtifact:
    """One input or output of a step run: content-addressed, with what it links to."""

    name: str
    direction: Literal["in", "out"]
    digest: str
    kind: str
    type_name: str = ""
    size: int = 0
    preview: str = ""
    link: str | None = None  # "dataset:NAME@V", "model:NAME/V" when it is that object


@dataclass(frozen=True, slots=True)
class StepRun:
    id: str
    run_id: str  # the pipeline run
    node: str
    step: str
    status: StepStatus
    cache_key: str | None
    attempts: int
    started_ms: int
    ended_ms: int
    cached_from: str | None = None  # the step run whose outputs a cache hit reused
    error: dict[str, Any] | None = None
    logs_digest: str | None = None
    tracking_run_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # inputs given as values
    artifacts: tuple[StepArtifact, ...] = ()

    def outputs(self) -> dict[str, StepArtifact]:
        return {a.name: a for a in self.artifacts if a.direction == "out"}


@dataclass(frozen=True, slots=True)
class NewPipelineRun:
    pipeline: str
    function: str
    spec: dict[str, Any]
    params: dict[str, Any]
    executor: str
    resumed_from: str | None = None
    trigger: str = "manual"  # manual | schedule:NAME | alert:RULE | dataset:NAME@V


@dataclass(frozen=True, slots=True)
class PipelineRun:
    id: str
    pipeline: str
    function: str
    params: dict[str, Any]
    status: RunStatus
    executor: str
    tracking_run_id: str | None
    created_by: str
    started_ms: int
    ended_ms: int | None = None
    resumed_from: str | None = None
    trigger: str = "manual"
    error: str | None = None
    spec: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LineageNode:
    id: str  # "artifact:DIGEST", "step:ID", "run:ID", "dataset:NAME@V", "model:NAME/V", …
    kind: str
    label: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LineageGraph:
    root: str
    nodes: tuple[LineageNode, ...]
    edges: tuple[tuple[str, str], ...]  # (from, to): from flows into to
    truncated: bool = False


def not_found(kind: str, name: str) -> NotFound:
    shown = name if len(name) <= 100 else name[:100] + "…"
    return NotFound(f"no {kind} {shown!r}", {kind.replace(" ", "_"): shown})


__all__ = [
    "FINAL_STEP",
    "LineageGraph",
    "LineageNode",
    "NewPipelineRun",
    "PipelineRun",
    "RunStatus",
    "StepArtifact",
    "StepRun",
    "StepStatus",
    "not_found",
]
