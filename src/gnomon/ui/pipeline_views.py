"""What the pipeline pages draw: a run's steps as a DAG (the edges from its stored spec), a
step's logs (their tail), and where each lineage node's own page is."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from markupsafe import Markup

from gnomon.errors import GnomonError
from gnomon.pipelines.entities import LineageGraph, LineageNode, PipelineRun, StepRun
from gnomon.pipelines.served_objects import ServedObjects
from gnomon.ui.graph_svg import GraphNode, dag_svg
from gnomon.ui.render import duration
from gnomon.ui.session import Viewer

LOG_TAIL_BYTES = 64 * 1024
Link = Callable[..., str]  # href(path, **query)


def spec_nodes(spec: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
    """The node ids of a stored spec (``spec_to_dict``) and its edges, data and ``after``.
    The spec is what a client sent: anything not of the expected shape is passed over."""
    steps = spec.get("steps") if isinstance(spec, dict) else None
    ids: list[str] = []
    edges: list[tuple[str, str]] = []
    for node in steps if isinstance(steps, list) else []:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str):
            continue
        ids.append(node["id"])
        args = node.get("args")
        for binding in args.values() if isinstance(args, dict) else []:
            edges += [(source, node["id"]) for source in _sources(binding)]
        after = node.get("after")
        if isinstance(after, list):
            edges += [(a, node["id"]) for a in after if isinstance(a, str)]
    return ids, edges


def _sources(binding: object) -> list[str]:
    if not isinstance(binding, dict):
        return []
    if isinstance(binding.get("step"), str):
        return [binding["step"]]
    items = binding.get("steps")
    if isinstance(items, list):
        return [b["step"] for b in items if isinstance(b, dict) and isinstance(b.get("step"), str)]
    return []


def step_note(step: StepRun) -> str:
    if step.status in ("cached", "skipped"):
        return "cache hit" if step.status == "cached" else "skipped"
    return duration(max(0, step.ended_ms - step.started_ms))


def run_graph(run: PipelineRun, steps: Sequence[StepRun], chosen: str | None, link: Link) -> Markup:
    """One box per node of the run's spec (``pending`` until recorded), coloured by status."""
    ids, edges = spec_nodes(run.spec)
    by_node = {step.node: step for step in steps}
    waiting = "pending" if run.status == "running" else "not-run"
    nodes = []
    for node in dict.fromkeys([*ids, *by_node]):  # a recorded node the spec lacks, too
        step = by_node.get(node)
        nodes.append(
            GraphNode(
                node,
                node,
                "step",
                step.status if step else waiting,
                step_note(step) if step else waiting.replace("-", " "),
                link(f"/pipelines/runs/{run.id}", step=node),
                node == chosen,
            )
        )
    return dag_svg("run-graph", nodes, edges, f"steps of pipeline run {run.id}")


@dataclass(frozen=True, slots=True)
class Logs:
    text: str = ""
    size: int = 0
    cut: bool = False
    error: str = ""


def step_logs(request: Request, viewer: Viewer, step: StepRun) -> Logs | None:
    """The last ``LOG_TAIL_BYTES`` of the step's captured output; None when it has none."""
    if step.logs_digest is None:
        return None
    settings = request.app.state.settings
    store = request.app.state.services.artifact_store(settings.artifact_root)
    folder = Path(tempfile.mkdtemp(prefix="gnomon-ui-logs-"))
    try:
        local = ServedObjects(store, viewer.scope.workspace).fetch(step.logs_digest, folder)
        size = local.stat().st_size
        with open(local, "rb") as source:
            source.seek(max(0, size - LOG_TAIL_BYTES))
            tail = source.read(LOG_TAIL_BYTES)
    except GnomonError as exc:  # the object is gone or damaged: said in the page, not a 404
        return Logs(error=str(exc))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    cut = size > LOG_TAIL_BYTES
    if cut:  # start at a whole line
        tail = tail.partition(b"\n")[2] or tail
    return Logs(tail.decode(errors="replace"), size, cut)


def lineage_graph(graph: LineageGraph, direction: str, depth: int, link: Link) -> Markup:
    """The lineage graph; each box opens the lineage around that node."""
    nodes = [
        GraphNode(
            n.id,
            n.label or n.id,
            n.kind,
            str(n.details.get("status", "")),
            n.kind,
            link("/lineage", object=n.id, direction=direction, depth=depth),
            n.id == graph.root,
        )
        for n in graph.nodes
    ]
    return dag_svg("lineage-graph", nodes, graph.edges, f"lineage of {graph.root}")


def object_page(node: LineageNode, link: Link) -> str | None:
    """The page that shows the lineage node's object, where the UI has one."""
    kind, _, name = node.id.partition(":")
    if kind == "run":
        return link(f"/runs/{quote(name)}")
    if kind == "pipeline-run":
        return link(f"/pipelines/runs/{quote(name)}")
    if kind == "step" and isinstance(node.details.get("pipeline_run"), str):
        return link(f"/pipelines/runs/{quote(node.details['pipeline_run'])}", step=node.label)
    if kind == "dataset":
        dataset, _, version = name.rpartition("@")
        return link(f"/datasets/{quote(dataset)}", version=version)
    if kind == "model":
        model, _, version = name.rpartition("/")
        return link(f"/models/{quote(model, safe='')}", version=version)
    if kind == "deployment":
        return link(f"/deployments/{quote(name, safe='')}")
    return None


__all__ = [
    "LOG_TAIL_BYTES",
    "Logs",
    "lineage_graph",
    "object_page",
    "run_graph",
    "spec_nodes",
    "step_logs",
    "step_note",
]
