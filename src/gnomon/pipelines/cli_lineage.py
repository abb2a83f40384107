"""``gnomon lineage OBJECT``: where an object came from and what was made from it, as a tree."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text
from rich.tree import Tree

from gnomon.cli.output import (
    OutputFormat,
    OutputOption,
    client_of,
    console,
    print_json,
    printable,
    to_jsonable,
)
from gnomon.pipelines.entities import LineageGraph, LineageNode

_ICONS = {
    "dataset": "🗃",
    "model": "📦",
    "deployment": "🚀",
    "step": "⚙",
    "artifact": "•",
    "run": "▶",
    "pipeline-run": "⛓",
}


def lineage(
    ctx: typer.Context,
    ref: Annotated[
        str,
        typer.Argument(
            help="model:NAME/V, dataset:NAME@V, deployment:NAME, run:ID, pipeline-run:ID, "
            "step:ID or artifact:DIGEST.",
            show_default=False,
        ),
    ],
    upstream: Annotated[bool, typer.Option("--upstream", help="Only where it came from.")] = False,
    downstream: Annotated[bool, typer.Option("--downstream", help="Only what used it.")] = False,
    depth: Annotated[int, typer.Option(help="How many links to follow (1..50).")] = 10,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Where an object came from (--upstream) and what used it (--downstream)."""
    direction = "both"
    if upstream != downstream:
        direction = "upstream" if upstream else "downstream"
    graph = client_of(ctx).pipelines.lineage(ref, direction, depth)  # type: ignore[arg-type]
    if output is OutputFormat.JSON:
        print_json(to_jsonable(graph))
        return
    console().print(render(graph, direction))


def render(graph: LineageGraph, direction: str) -> Tree:
    nodes = {node.id: node for node in graph.nodes}
    root = nodes[graph.root]
    tree = Tree(_label(root))
    if direction in ("upstream", "both"):
        parents: dict[str, list[str]] = {}
        for a, b in graph.edges:
            parents.setdefault(b, []).append(a)
        branch = (
            tree.add(Text("upstream (made from)", style="dim")) if direction == "both" else tree
        )
        _grow(branch, root.id, parents, nodes, {root.id})
    if direction in ("downstream", "both"):
        children: dict[str, list[str]] = {}
        for a, b in graph.edges:
            children.setdefault(a, []).append(b)
        branch = (
            tree.add(Text("downstream (used by)", style="dim")) if direction == "both" else tree
        )
        _grow(branch, root.id, children, nodes, {root.id})
    if graph.truncated:
        tree.add(Text("… more beyond --depth or the node limit", style="yellow"))
    return tree


def _grow(
    branch: Tree,
    node_id: str,
    links: dict[str, list[str]],
    nodes: dict[str, LineageNode],
    shown: set[str],
) -> None:
    """A DAG as a tree: a node reached again is named, not expanded again."""
    for other in sorted(links.get(node_id, []), key=lambda n: (nodes[n].kind, nodes[n].label)):
        if other in shown:
            label = _label(nodes[other])
            label.append("  (above)", style="dim italic")
            branch.add(label)
            continue
        shown.add(other)
        _grow(branch.add(_label(nodes[other])), other, links, nodes, shown)


def _label(node: LineageNode) -> Text:
    label = Text(f"{_ICONS.get(node.kind, '')} ")
    label.append(printable(node.kind), style="bold")
    label.append(f" {printable(node.label)}")
    status = node.details.get("status")
    if status:
        label.append(f" ({printable(str(status))})", style="dim")
    label.append(f"  {printable(node.id)}", style="dim")
    return label


__all__ = ["lineage", "render"]
