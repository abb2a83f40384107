"""The runner: walks a pipeline's DAG, asks the cache, hands ready steps to an executor and
records what happened.

Steps start as soon as their inputs exist, up to the executor's capacity. A step that fails
after its retries stops only what depends on it: every other branch runs to the end, and the
run then raises ``UserCodeError`` naming the failed steps. Finished steps are recorded in
batches (each step's record is written within ``FLUSH_SECONDS``), so a 200-step chain costs
a handful of transactions, not hundreds.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import xxhash

from gnomon._types import new_id
from gnomon.errors import InvalidInput, UserCodeError
from gnomon.pipelines.api import PipelinesApi
from gnomon.pipelines.codehash import environment
from gnomon.pipelines.context import StepContext
from gnomon.pipelines.decorators import step_params
from gnomon.pipelines.entities import (
    NewPipelineRun,
    PipelineRun,
    StepArtifact,
    StepRun,
    StepStatus,
)
from gnomon.pipelines.executors import Executor, open_executor
from gnomon.pipelines.materialize import decode
from gnomon.pipelines.objects import Objects, ObjectsAddress
from gnomon.pipelines.params import check_values
from gnomon.pipelines.spec import Node, OutputOf, OutputsOf, ParamOf, PipelineSpec, Value
from gnomon.pipelines.spec_json import spec_to_dict
from gnomon.pipelines.task import ArtifactRef, Inputs, StepOutcome, StepTask

FLUSH_SECONDS = 0.25
RECORD_BATCH = 1_000  # step records per call: far under the service's bound of 5,000
Event = Callable[[str, str], None]  # (node, status): running, succeeded, cached, failed, …


@dataclass
class RunResult:
    """A finished pipeline run: its record, each node's step run, and its outputs on demand."""

    run: PipelineRun
    steps: dict[str, StepRun]
    objects: Objects = field(repr=False)

    @property
    def status(self) -> str:
        return self.run.status

    def output(self, node: str, name: str = "output") -> Any:
        step = self.steps.get(node)
        if step is None:
            raise InvalidInput(f"run {self.run.id} has no step {node[:100]!r}")
        artifact = step.outputs().get(name)
        if artifact is None:
            raise InvalidInput(f"step {node!r} of run {self.run.id} has no output {name!r}")
        path = self.objects.local_file(artifact.digest) if artifact.kind == "file" else None
        data = b"" if path is not None else self.objects.get(artifact.digest)
        return decode(artifact.kind, data, path)

    def _repr_html_(self) -> str:  # a notebook's view of the run
        from gnomon.pipelines.html import run_html

        return run_html(self.run, list(self.steps.values()), self.counts())

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for step in self.steps.values():
            found[step.status] = found.get(step.status, 0) + 1
        return found


def cache_key(
    node: Node, inputs: Mapping[str, str | list[str]], values: Mapping[str, Any], env: Any
) -> str:
    document = {
        "function": node.step.function,
        "code": node.step.code_hash,
        "inputs": dict(inputs),
        "values": dict(values),
        "env": env,
    }
    return xxhash.xxh3_128_hexdigest(orjson.dumps(document, option=orjson.OPT_SORT_KEYS))


class _Run:
    def __init__(
        self,
        spec: PipelineSpec,
        values: dict[str, Any],
        api: PipelinesApi,
        executor: Executor,
        objects: Objects,
        address: ObjectsAddress,
        use_cache: bool,
        previous: dict[str, StepRun],
        on_event: Event | None,
    ) -> None:
        self.spec = spec
        self.values = values
        self.api = api
        self.executor = executor
        self.objects = objects
        self.address = address
        self.use_cache = use_cache
        self.previous = previous
        self.on_event = on_event or (lambda node, status: None)
        self.nodes = {node.id: node for node in spec.nodes}
        self.waiting = {node.id: set(spec.upstream(node)) for node in spec.nodes}
        self.children: dict[str, list[str]] = {node.id: [] for node in spec.nodes}
        for node in spec.nodes:
            for parent in self.waiting[node.id]:
                self.children[parent].append(node.id)
        self.outputs: dict[str, dict[str, StepArtifact]] = {}
        self.done: dict[str, StepRun] = {}
        self.unflushed: list[StepRun] = []
        self.flushed_at = time.monotonic()
        self.attempts: dict[str, int] = {}
        self.started: dict[str, float] = {}
        self.keys: dict[str, str | None] = {}
        self.envs: dict[tuple[str, ...], dict[str, str]] = {}
        self.running: set[str] = set()
        self.retries: list[tuple[float, str]] = []
        self.known = api.recent_cache(spec.name) if use_cache else {}
        self.fresh: set[str] = set()  # output digests stored for the first time by this run
        # a running step's value inputs and recorded input artifacts, for its step run
        self.pending_inputs: dict[str, tuple[dict[str, Any], list[StepArtifact]]] = {}

    def execute(self, run: PipelineRun, order: list[str]) -> None:
        self.run_id = run.id
        self.tracking_run_id = run.tracking_run_id
        ready = deque(node_id for node_id in order if not self.waiting[node_id])
        while ready or self.running or self.retries:
            batch: list[str] = []
            while ready and len(self.running) + len(batch) < self.executor.capacity:
                batch.append(ready.popleft())
            for node_id in self._dispatch(batch):
                self._release(node_id, ready)
            if not self.running and not self.retries:
                continue
            timeout = None
            if self.retries:
                timeout = max(0.0, self.retries[0][0] - time.monotonic())
            if ready and len(self.running) < self.executor.capacity:
                timeout = 0.0
            for outcome in self.executor.wait(timeout):
                self.running.discard(outcome.node)
                if self._finished(outcome):
                    self._release(outcome.node, ready)
            now = time.monotonic()
            while self.retries and self.retries[0][0] <= now:
                ready.append(heapq.heappop(self.retries)[1])
            self._flush(force=False)
        self._flush(force=True)

    def _inputs(self, node: Node) -> tuple[dict[str, Inputs], dict[str, Any], list[StepArtifact]]:
        artifacts: dict[str, Inputs] = {}
        values: dict[str, Any] = {}
        recorded: list[StepArtifact] = []
        for name, binding in node.args.items():
            if isinstance(binding, OutputOf):
                produced = self.outputs[binding.node][binding.output]
                artifacts[name] = ArtifactRef(produced.digest, produced.kind)
                recorded.append(replace(produced, name=name, direction="in"))
            elif isinstance(binding, OutputsOf):
                items = [self.outputs[b.node][b.output] for b in binding.items]
                artifacts[name] = tuple(ArtifactRef(p.digest, p.kind) for p in items)
                recorded += [
                    replace(p, name=f"{name}[{i}]", direction="in") for i, p in enumerate(items)
                ]
            elif isinstance(binding, ParamOf):
                values[name] = self.values[binding.name]
            elif isinstance(binding, Value):
                values[name] = binding.value
        return artifacts, values, recorded

    def _dispatch(self, batch: list[str]) -> list[str]:
        """Submit each node, or complete it from the cache; the ids completed at once."""
        prepared = []
        for node_id in batch:
            node = self.nodes[node_id]
            artifacts, values, recorded = self._inputs(node)
            key = None
            if node.step.cache:
                env = self.envs.get(node.step.env)
                if env is None:
                    env = self.envs[node.step.env] = environment(node.step.env)
                digests = {name: _digests(ref) for name, ref in artifacts.items()}
                key = cache_key(node, digests, values, env)
            self.keys[node_id] = key
            prepared.append((node, artifacts, values, recorded, key))
        wanted = [
            key
            for _, artifacts, _, _, key in prepared
            if key is not None
            and self.use_cache
            and key not in self.known
            and not self._only_fresh(artifacts)
        ]
        hits = {**self.known, **self.api.cached(wanted)} if wanted else self.known
        completed = []
        for node, artifacts, values, recorded, key in prepared:
            reuse = self._reusable(node, key, hits)
            if reuse is not None:
                self._complete_cached(node, reuse, values, recorded, key)
                completed.append(node.id)
                continue
            attempt = self.attempts.get(node.id, 0) + 1
            self.attempts[node.id] = attempt
            self.started.setdefault(node.id, time.time())
            task = StepTask(
                node.id,
                node.step.function,
                artifacts,
                values,
                tuple(port.name for port in node.step.outputs),
                self.address,
                attempt,
                StepContext(self.spec.name, self.run_id, node.id, attempt, self.tracking_run_id),
            )
            self.pending_inputs[node.id] = (values, recorded)
            resources = node.step.resources
            self.executor.submit(task, resources.cpus, resources.gpus, node.step.timeout)
            self.running.add(node.id)
            self.on_event(node.id, "running")
        return completed

    def _only_fresh(self, artifacts: Mapping[str, Inputs]) -> bool:
        """Every input is content this run stored first: no step can have read it before,
        so no cache entry can hold it and the store need not be asked."""
        found = [
            r for ref in artifacts.values() for r in (ref if isinstance(ref, tuple) else (ref,))
        ]
        return bool(found) and all(ref.digest in self.fresh for ref in found)

    def _reusable(self, node: Node, key: str | None, hits: Mapping[str, StepRun]) -> StepRun | None:
        candidates = []
        earlier = self.previous.get(node.id)
        if earlier is not None and earlier.status in ("succeeded", "cached"):
            candidates.append(earlier)  # resume: what succeeded before is kept
        if key is not None and key in hits:
            candidates.append(hits[key])
        for candidate in candidates:
            outputs = candidate.outputs()
            names = [port.name for port in node.step.outputs]
            if all(
                n in outputs and self.objects.exists(outputs[n].digest, outputs[n].size)
                for n in names
            ):
                return candidate
        return None

    def _complete_cached(
        self,
        node: Node,
        source: StepRun,
        values: dict[str, Any],
        recorded: list[StepArtifact],
        key: str | None,
    ) -> None:
        now = _ms(time.time())
        outputs = source.outputs()
        self.outputs[node.id] = outputs
        step = StepRun(
            id=new_id(),
            run_id=self.run_id,
            node=node.id,
            step=node.step.name,
            status="cached",
            cache_key=key,
            attempts=0,
            started_ms=now,
            ended_ms=now,
            cached_from=source.cached_from or source.id,
            params=values,
            artifacts=(*recorded, *outputs.values()),
        )
        self._record(step)
        self.on_event(node.id, "cached")

    def _finished(self, outcome: StepOutcome) -> bool:
        """Record an outcome; True when the node succeeded (its children may be ready)."""
        node = self.nodes[outcome.node]
        values, recorded = self.pending_inputs.pop(node.id)
        logs = self.objects.put(outcome.logs.encode()) if outcome.logs else None
        if outcome.ok:
            self.fresh.update(o.digest for o in outcome.outputs if o.fresh)
            outputs = {
                o.name: StepArtifact(
                    o.name, "out", o.digest, o.kind, o.type_name, o.size, o.preview, o.link
                )
                for o in outcome.outputs
            }
            self.outputs[node.id] = outputs
            status: StepStatus = "succeeded"
        else:
            assert outcome.error is not None
            if outcome.attempt <= node.step.retries:
                delay = node.step.backoff * (2 ** (outcome.attempt - 1))
                heapq.heappush(self.retries, (time.monotonic() + delay, node.id))
                self.on_event(node.id, "retrying")
                return False
            outputs = {}
            status = "failed"
        error = None
        if outcome.error is not None:
            error = {
                "type": outcome.error.type,
                "message": outcome.error.message,
                "traceback": outcome.error.traceback,
                "user_code": outcome.error.user_code,
                "timed_out": outcome.error.timed_out,
            }
        step = StepRun(
            id=new_id(),
            run_id=self.run_id,
            node=node.id,
            step=node.step.name,
            status=status,
            cache_key=self.keys.get(node.id),
            attempts=outcome.attempt,
            started_ms=_ms(self.started.get(node.id, outcome.started)),
            ended_ms=_ms(outcome.ended),
            error=error,
            logs_digest=logs,
            params=values,
            artifacts=(*recorded, *outputs.values()),
        )
        self._record(step)
        self.on_event(node.id, status)
        if status == "failed":
            self._skip_below(node.id)
            return False
        return True

    def _release(self, node_id: str, ready: deque[str]) -> None:
        for child in self.children[node_id]:
            waiting = self.waiting[child]
            waiting.discard(node_id)
            if not waiting and child not in self.done:
                ready.append(child)

    def _skip_below(self, node_id: str) -> None:
        now = _ms(time.time())
        stack = list(self.children[node_id])
        while stack:
            child = stack.pop()
            if child in self.done:
                continue
            node = self.nodes[child]
            self._record(
                StepRun(
                    new_id(),
                    self.run_id,
                    child,
                    node.step.name,
                    "skipped",
                    None,
                    0,
                    now,
                    now,
                    error={"type": "UpstreamFailed", "message": f"step {node_id!r} failed"},
                )
            )
            self.on_event(child, "skipped")
            stack.extend(self.children[child])

    def _record(self, step: StepRun) -> None:
        self.done[step.node] = step
        self.unflushed.append(step)

    def _flush(self, force: bool) -> None:
        if not self.unflushed:
            return
        if not force and time.monotonic() - self.flushed_at < FLUSH_SECONDS:
            return
        batch, self.unflushed = self.unflushed, []
        for start in range(0, len(batch), RECORD_BATCH):  # a fan-out all cached at once
            self.api.record_steps(self.run_id, batch[start : start + RECORD_BATCH])
        self.flushed_at = time.monotonic()


def run_pipeline(
    spec: PipelineSpec,
    api: PipelinesApi,
    params: Mapping[str, Any] | None = None,
    *,
    executor: str = "local",
    cache: bool = True,
    resume: str | None = None,
    parallelism: int | None = None,
    ray_address: str | None = None,
    trigger: str = "manual",
    on_event: Event | None = None,
    raise_on_failure: bool = True,
) -> RunResult:
    """Run ``spec`` and record it; raises ``UserCodeError`` naming the failed steps."""
    order = spec.validate()
    given = dict(params or {})
    previous: dict[str, StepRun] = {}
    if resume is not None:
        earlier = api.get_run(resume)
        if earlier.pipeline != spec.name:
            raise InvalidInput(
                f"run {resume} is of pipeline {earlier.pipeline!r}, not {spec.name!r}"
            )
        given = {**earlier.params, **given}
        previous = {step.node: step for step in api.steps(resume)}
    values = check_values(spec, step_params(spec, given))
    address = api.objects()
    objects = address.open()
    modules = tuple(sorted({node.step.function.partition(":")[0] for node in spec.nodes}))
    opened = open_executor(
        executor, address, parallelism=parallelism, ray_address=ray_address, modules=modules
    )
    try:
        new = NewPipelineRun(
            spec.name, spec.function, spec_to_dict(spec), values, executor, resume, trigger
        )
        run = api.start_run(new)
        state = _Run(spec, values, api, opened, objects, address, cache, previous, on_event)
        error: str | None = None
        try:
            state.execute(run, order)
        except BaseException as exc:  # interrupted: the run is recorded as failed, then re-raised
            _finish(
                api, run.id, "failed", f"interrupted: {type(exc).__name__}: {exc}"[:2000], state
            )
            raise
        objects.sync()
        failed = [s for s in state.done.values() if s.status == "failed"]
        if failed:
            error = "; ".join(f"step {s.node!r} failed: {_short(s)}" for s in failed[:5])
        run = api.finish_run(run.id, "failed" if failed else "succeeded", error)
    finally:
        opened.close()
    result = RunResult(run, dict(state.done), objects)
    if failed and raise_on_failure:
        first = failed[0]
        raise UserCodeError(
            f"pipeline {spec.name!r} run {run.id}: {error}",
            details={"run_id": run.id, "steps": [s.node for s in failed], "step": first.node},
        )
    return result


def _finish(api: PipelinesApi, run_id: str, status: str, error: str, state: _Run) -> None:
    try:
        state._flush(force=True)
        api.finish_run(run_id, status, error)
    except Exception:  # the original interruption matters more than a failed record
        pass


def _digests(ref: Inputs) -> str | list[str]:
    return [r.digest for r in ref] if isinstance(ref, tuple) else ref.digest


def _short(step: StepRun) -> str:
    error = step.error or {}
    return f"{error.get('type', 'Error')}: {str(error.get('message', ''))[:300]}"


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


__all__ = ["RunResult", "cache_key", "run_pipeline"]
