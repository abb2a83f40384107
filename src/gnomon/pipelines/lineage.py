"""LineageService: one graph over step runs, their artifacts, tracking runs, dataset versions,
model versions and deployments.

Node ids name the object: ``step:ID``, ``artifact:DIGEST``, ``run:ID`` (tracking),
``pipeline-run:ID``, ``dataset:NAME@V``, ``model:NAME/V``, ``deployment:NAME``. An edge
``(a, b)`` says a flowed into b: an artifact into the step that read it, a step into what it
wrote, a dataset into a run that trained on it, a run into the model it produced, a model
into the deployment serving it. An artifact that *is* a dataset or model version (a step
returned a ``DatasetVersion``/``ModelVersion``) is shown as that object, so pipeline lineage
and registry lineage meet in one node.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from gnomon._types import Scope
from gnomon.errors import InvalidInput, NotFound
from gnomon.pipelines.entities import LineageGraph, LineageNode, StepArtifact, StepRun
from gnomon.pipelines.later import DatasetsAndRegistry
from gnomon.pipelines.sql import SqlPipelineStore
from gnomon.tracking.service import TrackingService

if TYPE_CHECKING:
    from gnomon.data.service import DatasetService
    from gnomon.deployments.service import DeploymentService
    from gnomon.registry.service import RegistryService

MAX_DEPTH = 50
MAX_NODES = 2_000  # a graph past this is cut (``truncated``), not walked to the end
# Neighbours one walk may read (links to nodes seen before count): past it the graph is cut too,
# so steps of ten thousand inputs each cannot make one request read millions of rows.
MAX_READ = 20_000
KINDS = ("step", "artifact", "run", "pipeline-run", "dataset", "model", "deployment")
Neighbours = list[tuple[LineageNode, bool]]  # (node, True when it is upstream of the other)


def parse_ref(ref: str) -> tuple[str, str]:
    kind, sep, name = ref.partition(":")
    if not sep or kind not in KINDS or not name or len(ref) > 700:
        raise InvalidInput(
            f"a lineage object is KIND:NAME with KIND one of {', '.join(KINDS)}; got {ref[:100]!r}"
        )
    return kind, name


class LineageService(DatasetsAndRegistry):
    def __init__(
        self,
        store: SqlPipelineStore,
        tracking: TrackingService,
        datasets: Callable[[], DatasetService | None],
        registry: Callable[[], RegistryService],
        deployments: Callable[[], DeploymentService | None],
    ) -> None:
        self.store = store
        self.tracking = tracking
        self._datasets = datasets  # looked up on first use (later.py), as the others
        self._registry = registry
        self._deployments = deployments

    @property
    def deployments(self) -> DeploymentService | None:
        return self._deployments()

    def graph(
        self, scope: Scope, ref: str, direction: str = "both", depth: int = 10
    ) -> LineageGraph:
        if direction not in ("upstream", "downstream", "both"):
            raise InvalidInput(f"direction is upstream, downstream or both, not {direction[:40]!r}")
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
            raise InvalidInput(f"depth must be 1..{MAX_DEPTH}, not {depth!r}")
        root = self._node(scope, ref)
        nodes = {root.id: root}
        edges: set[tuple[str, str]] = set()
        truncated = False
        walks = [d for d in ("upstream", "downstream") if direction in (d, "both")]
        for walk in walks:
            read = 0
            queue = deque([(root, 0)])
            seen = {root.id}
            while queue:
                if read > MAX_READ:
                    truncated = True
                    break
                node, level = queue.popleft()
                around = self._neighbours(scope, node, walk)
                read += len(around)
                if level >= depth:
                    truncated = truncated or bool(around)
                    continue
                for other, upstream in around:
                    edges.add((other.id, node.id) if upstream else (node.id, other.id))
                    if other.id in seen:
                        continue
                    if len(nodes) >= MAX_NODES:
                        truncated = True
                        continue
                    seen.add(other.id)
                    nodes.setdefault(other.id, other)
                    queue.append((other, level + 1))
        kept = {(a, b) for a, b in edges if a in nodes and b in nodes}
        return LineageGraph(root.id, tuple(nodes.values()), tuple(sorted(kept)), truncated)

    # -- nodes ------------------------------------------------------------------------------

    def _node(self, scope: Scope, ref: str) -> LineageNode:
        kind, name = parse_ref(ref)
        if kind == "step":
            return _step_node(self.store.step(scope, name, bare=True))
        if kind == "pipeline-run":
            return self._pipeline_run_node(scope, name)
        if kind == "run":
            run = self.tracking.get_run(scope, name)
            return LineageNode(ref, kind, run.name, {"status": run.status.value})
        if kind == "artifact":
            artifact = self.store.artifact(scope, name)
            if artifact is None:
                raise NotFound(f"no pipeline artifact {name[:40]!r}")
            return _artifact_node(artifact)
        if kind == "dataset":
            if self.datasets is None:
                raise NotFound("this server keeps no datasets")
            version = self.datasets.version(scope, name)
            return LineageNode(
                f"dataset:{version.ref}", kind, version.ref, {"rows_or_files": version.files}
            )
        if kind == "model":
            model, _, number = name.rpartition("/")
            if not model or not number.isascii() or not number.isdigit():
                raise InvalidInput(f"a model version is model:NAME/VERSION, not {ref[:100]!r}")
            found = self.registry.get_version(scope, model, int(number))
            return LineageNode(ref, kind, f"{model} v{found.version}", {"aliases": found.aliases})
        if self.deployments is None:
            raise NotFound("this server keeps no deployments")
        deployment = self.deployments.get(scope, name)
        return LineageNode(ref, kind, deployment.name, {"revision": deployment.revision})

    # -- edges ------------------------------------------------------------------------------

    def _neighbours(self, scope: Scope, node: LineageNode, walk: str) -> Neighbours:
        kind, name = parse_ref(node.id)
        up = walk == "upstream"
        handler: Callable[[Scope, str, bool], Neighbours] = getattr(
            self, f"_{kind.replace('-', '_')}"
        )
        try:
            return handler(scope, name, up)
        except NotFound:  # a version a step linked to, deleted since (or never the workspace's)
            return []

    def _step(self, scope: Scope, step_id: str, up: bool) -> Neighbours:
        step = self.store.step(scope, step_id, bare=True)
        wanted = "in" if up else "out"
        found = [(_artifact_node(a), up) for a in step.artifacts if a.direction == wanted]
        if up:
            found.append((self._pipeline_run_node(scope, step.run_id), True))
        return found

    def _pipeline_run_node(self, scope: Scope, run_id: str) -> LineageNode:
        run = self.store.get_run(scope, run_id)
        return LineageNode(
            f"pipeline-run:{run.id}", "pipeline-run", f"{run.pipeline} run", {"status": run.status}
        )

    def _pipeline_run(self, scope: Scope, run_id: str, up: bool) -> Neighbours:
        if up:
            return []
        steps = self.store.steps(scope, run_id, limit=MAX_NODES + 1, artifacts=False)
        return [(_step_node(step), False) for step in steps]

    def _artifact(self, scope: Scope, digest: str, up: bool) -> Neighbours:
        steps = (
            self.store.producers(scope, [digest]) if up else self.store.consumers(scope, [digest])
        )
        return [(_step_node(step), up) for step in steps]

    def _dataset(self, scope: Scope, ref: str, up: bool) -> Neighbours:
        link = f"dataset:{ref}"
        steps = self.store.by_link(scope, link, "out" if up else "in")
        found: Neighbours = [(_step_node(step), up) for step in steps]
        if self.datasets is None:
            return found
        if up:
            version = self.datasets.version(scope, ref)
            if version.run_id:
                found.append((self._run_node(scope, version.run_id), True))
            return found
        used = self.datasets.used_by(scope, ref)
        found += [(self._run_node(scope, use.run_id), False) for use in used.runs]
        return found

    def _run(self, scope: Scope, run_id: str, up: bool) -> Neighbours:
        if up:
            if self.datasets is None:
                return []
            return [(self._dataset_node(i.ref), True) for i in self.datasets.inputs(scope, run_id)]
        versions = self.registry.search_versions(scope, run_id=run_id, max_results=100).items
        return [(_model_node(v.model_name, v.version), False) for v in versions]

    def _model(self, scope: Scope, name: str, up: bool) -> Neighbours:
        model, _, number = name.rpartition("/")
        link = f"model:{name}"
        steps = self.store.by_link(scope, link, "out" if up else "in")
        found: Neighbours = [(_step_node(step), up) for step in steps]
        if up:
            version = self.registry.get_version(scope, model, int(number))
            if version.run_id:
                found.append((self._run_node(scope, version.run_id), True))
            return found
        if self.deployments is None:
            return found
        for deployment in self.deployments.list(scope):
            if all(arm.model != model for arm in deployment.routing.arms):
                continue  # resolved only where it routes this model: a query per arm
            try:
                _, arms = self.deployments.resolve(scope, deployment.name)
            except Exception:  # a route whose model is gone: nothing to link from it
                continue
            if any(a.arm.model == model and a.version == int(number) for a in arms):
                found.append((_deployment_node(deployment.name), False))
        return found

    def _deployment(self, scope: Scope, name: str, up: bool) -> Neighbours:
        if not up or self.deployments is None:
            return []
        _, arms = self.deployments.resolve(scope, name)
        return [(_model_node(a.arm.model, a.version), True) for a in arms]

    def _run_node(self, scope: Scope, run_id: str) -> LineageNode:
        try:
            run = self.tracking.get_run(scope, run_id)
        except NotFound:
            return LineageNode(f"run:{run_id}", "run", run_id, {"deleted": True})
        return LineageNode(f"run:{run.id}", "run", run.name, {"status": run.status.value})

    @staticmethod
    def _dataset_node(ref: str) -> LineageNode:
        return LineageNode(f"dataset:{ref}", "dataset", ref)


def _step_node(step: StepRun) -> LineageNode:
    details = {"status": step.status, "pipeline_run": step.run_id}
    if step.cached_from:
        details["cached_from"] = step.cached_from
    return LineageNode(f"step:{step.id}", "step", step.node, details)


def _artifact_node(artifact: StepArtifact) -> LineageNode:
    if artifact.link:
        kind = artifact.link.partition(":")[0]
        label = artifact.link.partition(":")[2]
        return LineageNode(artifact.link, kind, label, {"digest": artifact.digest})
    details = {"kind": artifact.kind, "type": artifact.type_name, "size": artifact.size}
    return LineageNode(
        f"artifact:{artifact.digest}", "artifact", artifact.preview or artifact.name, details
    )


def _model_node(model: str, version: int) -> LineageNode:
    return LineageNode(f"model:{model}/{version}", "model", f"{model} v{version}")


def _deployment_node(name: str) -> LineageNode:
    return LineageNode(f"deployment:{name}", "deployment", name)


__all__ = ["LineageService", "parse_ref"]
