"""PipelineService: the rules around recording pipeline runs, shared by both modes.

A pipeline run is also a run in tracking (in the experiment ``pipeline:<name>``), and each
finished step a nested run under it, with the step's value inputs as params, its duration as
a metric and its status, node and cache hit as tags: the run comparison, search and UI of
tracking apply to pipelines unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson

from gnomon import checks
from gnomon._types import Scope
from gnomon.errors import Conflict, InvalidInput
from gnomon.pipelines.entities import FINAL_STEP, NewPipelineRun, PipelineRun, StepRun
from gnomon.pipelines.spec import MAX_NODES
from gnomon.pipelines.sql import SqlPipelineStore
from gnomon.tracking.entities import FinishedRun, Metric, NewRun, RunData, RunStatus
from gnomon.tracking.service import TrackingService
from gnomon.tracking.validation import check_name, params_dict

MAX_SPEC_BYTES = 8 * 2**20
MAX_PARAMS_BYTES = 64 * 1024
MAX_ERROR_BYTES = 256 * 1024  # a step's error: 4,000 characters of message, 20,000 of traceback
MAX_STEPS_PER_CALL = 5_000
MAX_LIST = 1_000
MAX_RUN_ARTIFACTS = 200_000  # inputs and outputs over all of a run's steps
RECENT_RUNS = 2  # runs whose cache entries a new run of the pipeline reads up front
_PARAM_SHOWN = 500  # characters of a step's value input kept as a tracking param


class PipelineService:
    def __init__(self, store: SqlPipelineStore, tracking: TrackingService) -> None:
        self.store = store
        self.tracking = tracking

    def start_run(self, scope: Scope, new: NewPipelineRun) -> PipelineRun:
        check_name("pipeline", new.pipeline)
        _text("function", new.function, 1000, empty=True)
        _text("trigger", new.trigger, 600)
        if new.executor not in ("local", "ray", "argo", "kfp"):
            raise InvalidInput(f"unknown executor {new.executor[:40]!r}")
        _bounded("spec", new.spec, MAX_SPEC_BYTES)
        _bounded("params", new.params, MAX_PARAMS_BYTES)
        if new.resumed_from is not None:
            previous = self.store.get_run(scope, new.resumed_from)
            if previous.pipeline != new.pipeline:
                raise InvalidInput(
                    f"run {new.resumed_from} is of pipeline {previous.pipeline!r}, "
                    f"not {new.pipeline!r}"
                )
        params = params_dict({k: _shown(v) for k, v in new.params.items()})  # before any write
        experiment = self.tracking.get_or_create_experiment(scope, f"pipeline:{new.pipeline}")
        tags = {"gnomon.pipeline": new.pipeline, "gnomon.pipeline.trigger": new.trigger}
        tracked = self.tracking.create_run(scope, experiment.id, new.pipeline, tags=tags)
        if params:
            self.tracking.log_batch(scope, tracked.id, params=params)
        return self.store.create_run(scope, new, tracked.id)

    def record_steps(self, scope: Scope, run_id: str, steps: Sequence[StepRun]) -> None:
        """Store finished steps, each also as a nested tracking run of the pipeline's run.

        Everything that can refuse the batch is checked before the nested runs are written
        (they are a transaction of their own): a refused batch leaves nothing behind."""
        if len(steps) > MAX_STEPS_PER_CALL:
            raise InvalidInput(f"at most {MAX_STEPS_PER_CALL} steps per call, not {len(steps)}")
        run = self.store.get_run(scope, run_id, spec=False)
        if run.status != "running":
            raise Conflict(f"pipeline run {run_id} is already {run.status}")
        nodes: dict[str, str] = {}  # by step id
        seen: set[str] = set()
        for step in steps:
            shown = f"step {step.node[:100]!r}"
            if step.status not in FINAL_STEP:
                raise InvalidInput(f"{shown}: unknown status {step.status!r}")
            if step.id in nodes or step.node in seen:
                raise InvalidInput(f"{shown}: its id or node is twice in the batch")
            nodes[step.id] = step.node
            seen.add(step.node)
            _bounded(shown, step.params, MAX_PARAMS_BYTES)
            if step.error is not None:
                _bounded(f"{shown} error", step.error, MAX_ERROR_BYTES)
            for artifact in step.artifacts:
                if artifact.link is not None:
                    _check_link(artifact.link)
        if self.store.check_new_steps(run_id, nodes):
            return  # sent again after its answer was lost (a retry): recorded already
        held, artifacts = self.store.counts(run_id)
        adding = sum(len(step.artifacts) for step in steps)
        if held + len(steps) > MAX_NODES or artifacts + adding > MAX_RUN_ARTIFACTS:
            raise InvalidInput(
                f"pipeline run {run_id} may hold {MAX_NODES} steps and {MAX_RUN_ARTIFACTS} "
                f"artifacts; it holds {held} and {artifacts}, and this batch adds "
                f"{len(steps)} and {adding}"
            )
        # The nested run is the server's to make: a client's tracking run id is not kept.
        steps = [replace(s, tracking_run_id=None) if s.tracking_run_id else s for s in steps]
        self.store.add_steps(scope, run_id, self._track(scope, run, steps))

    def _track(self, scope: Scope, run: PipelineRun, steps: Sequence[StepRun]) -> list[StepRun]:
        """Each step that ran or was reused as a finished nested run of the pipeline's run."""
        shown = [step for step in steps if step.status != "skipped"]
        if run.tracking_run_id is None or not shown:
            return list(steps)
        finished = []
        for step in shown:
            tags = {
                "gnomon.pipeline.run": run.id,
                "gnomon.pipeline.step": step.step,
                "gnomon.pipeline.node": step.node,
                "gnomon.pipeline.status": step.status,
            }
            if step.cached_from:
                tags["gnomon.pipeline.cached_from"] = step.cached_from
            seconds = max(0, step.ended_ms - step.started_ms) / 1000
            data = RunData(
                [Metric("duration_s", seconds, 0, step.ended_ms)],
                {k[:250]: _shown(v) for k, v in step.params.items()},
            )
            new = NewRun(
                experiment_id="",  # the parent's, filled in by tracking
                name=step.node[:256],
                user=scope.principal,
                start_time=step.started_ms,
                tags=tags,
            )
            status = RunStatus.FAILED if step.status == "failed" else RunStatus.FINISHED
            finished.append(FinishedRun(new, status, max(step.ended_ms, step.started_ms), data))
        ids = iter(self.tracking.add_finished_runs(scope, run.tracking_run_id, finished))
        return [
            step if step.status == "skipped" else replace(step, tracking_run_id=next(ids))
            for step in steps
        ]

    def finish_run(self, scope: Scope, run_id: str, status: str, error: str | None) -> PipelineRun:
        if status not in ("succeeded", "failed"):
            raise InvalidInput(f"a pipeline run ends succeeded or failed, not {status[:40]!r}")
        if error is not None:
            error = error[:20_000]
        current = self.store.get_run(scope, run_id)
        if current.status == status:
            return current  # sent again after its answer was lost (a retry): finished already
        finished = self.store.finish_run(scope, run_id, status, error)
        if finished.tracking_run_id is not None:
            final = RunStatus.FINISHED if status == "succeeded" else RunStatus.FAILED
            self.tracking.end_run(scope, finished.tracking_run_id, final)
        return finished

    def get_run(self, scope: Scope, run_id: str) -> PipelineRun:
        return self.store.get_run(scope, _text("run_id", run_id, 64))

    def list_runs(
        self, scope: Scope, pipeline: str | None = None, limit: int = 100
    ) -> list[PipelineRun]:
        if not 1 <= limit <= MAX_LIST:
            raise InvalidInput(f"limit must be 1..{MAX_LIST}, not {limit}")
        return self.store.list_runs(scope, pipeline, limit)

    def steps(self, scope: Scope, run_id: str) -> list[StepRun]:
        return self.store.steps(scope, _text("run_id", run_id, 64))

    def cached(self, scope: Scope, keys: Sequence[str]) -> dict[str, StepRun]:
        if len(keys) > MAX_STEPS_PER_CALL:
            raise InvalidInput(f"at most {MAX_STEPS_PER_CALL} cache keys per call")
        for key in keys:
            _text("cache key", key, 64)
        return self.store.cached(scope, keys)

    def recent_cache(self, scope: Scope, pipeline: str) -> dict[str, StepRun]:
        """The cache entries of the pipeline's last few runs (the runner's first guess)."""
        return self.store.recent_cache(scope, check_name("pipeline", pipeline), RECENT_RUNS)


def _text(what: str, value: object, limit: int, empty: bool = False) -> str:
    checked = checks.text(what, value, empty=empty)
    if len(checked) > limit:
        raise InvalidInput(f"{what} is {len(checked)} characters; at most {limit}")
    return checked


def _check_link(link: str) -> None:
    """A step artifact's link is ``dataset:NAME@V`` or ``model:NAME/V``, what a step's
    returned ``DatasetVersion`` or ``ModelVersion`` is recorded as (lineage follows it)."""
    kind, _, rest = link.partition(":")
    name, _, version = rest.rpartition("@" if kind == "dataset" else "/")
    if (
        kind not in ("dataset", "model")
        or not version.isascii()
        or not version.isdigit()
        or not 1 <= int(version) <= 2**31
    ):
        raise InvalidInput(
            f"an artifact's link is dataset:NAME@VERSION or model:NAME/VERSION, not {link[:100]!r}"
        )
    check_name(kind, name)


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= _PARAM_SHOWN else text[: _PARAM_SHOWN - 1] + "…"


def _bounded(what: str, value: Any, limit: int) -> None:
    try:
        size = len(orjson.dumps(value))
    except TypeError as exc:
        raise InvalidInput(f"{what} is not JSON: {exc}") from None
    if size > limit:
        raise InvalidInput(f"{what} is {size} bytes of JSON; at most {limit}")


__all__ = ["PipelineService"]
