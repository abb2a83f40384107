"""The demo's pipeline step: the demo's training as a pipeline of standard components,
load → split → train → evaluate (the gate, against the champion) → register, run twice (the
second time every step comes from the cache), its lineage, and the same pipeline on Ray.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from typing import Any

import gnomon
from gnomon.errors import Unavailable
from gnomon.pipelines.components import evaluate, load, register, split, train
from gnomon.pipelines.components.training import DEFAULT_ESTIMATOR
from gnomon.pipelines.decorators import pipeline
from gnomon.pipelines.entities import LineageGraph

MODEL = "demo-pipeline-classifier"
TARGET = "target"


@pipeline
def demo_training(dataset: str, estimator: str = DEFAULT_ESTIMATOR, seed: int = 42) -> Any:
    """Train on a pinned dataset version; register only what passes the gate."""
    frame = load(dataset)
    rows, holdout = split(frame, 0.25, seed, TARGET)
    model, uri = train(rows, TARGET, estimator, None, dataset, seed)
    gate = evaluate(model, holdout, TARGET, MODEL, "production", None)
    return register(uri, gate, MODEL, "production")


@dataclass(frozen=True, slots=True)
class PipelineRunDemo:
    run_id: str
    executor: str
    seconds: float
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class PipelineDemo:
    first: PipelineRunDemo
    cached: PipelineRunDemo
    gate: dict[str, Any]
    registered: str | None  # "model:NAME/V"
    lineage: LineageGraph | None
    on_ray: PipelineRunDemo | None
    ray_note: str  # why the Ray run was left out, or ""


def run_pipelines(dataset: str, ray: bool = True) -> PipelineDemo:
    params = {"dataset": dataset}
    first = _timed(params, "local", cache=True)
    cached = _timed(params, "local", cache=True)
    result = first[1]
    version = result.output("register")
    registered = f"model:{version.model_name}/{version.version}" if version is not None else None
    lineage = None
    if registered is not None:
        lineage = gnomon.get_client().pipelines.lineage(registered, "upstream", 8)
    on_ray, note = None, ""
    if not ray:
        note = "the Ray run was not asked for"
    elif importlib.util.find_spec("ray") is None:
        note = "Ray is not installed: pip install 'gnomon[ray]'"
    else:
        # the same pipeline, every step run again as a Ray task on a local Ray instance
        try:
            on_ray = _timed(params, "ray", cache=False)[0]
        except Unavailable as exc:  # Ray could not start here: the rest of the demo stands
            note = f"the Ray run was left out: {exc}"
    return PipelineDemo(
        first[0], cached[0], result.output("evaluate"), registered, lineage, on_ray, note
    )


def _timed(params: dict[str, Any], executor: str, cache: bool) -> tuple[PipelineRunDemo, Any]:
    started = time.perf_counter()
    result = gnomon.run_pipeline(demo_training, params, executor=executor, cache=cache)
    took = time.perf_counter() - started
    return PipelineRunDemo(result.run.id, executor, took, result.counts()), result


__all__ = ["PipelineDemo", "demo_training", "run_pipelines"]
