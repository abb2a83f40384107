"""A DAG drawn as SVG on the server: a pipeline run's steps, a lineage graph.

Layers by longest path from the sources (left to right), nodes as rounded boxes with a name
and a note, edges as curves. No script: the page stays readable without one, and the CSP
allows presentation attributes. Past ``MAX_NODES`` nodes the first ones are drawn and the
graph says how many were left out.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

MAX_NODES = 500
NODE_W, NODE_H = 170, 40
GAP_X, GAP_Y, PAD = 56, 14, 12
LABEL_CHARS = 24
_CLASS = re.compile(r"[a-z][a-z0-9-]{0,30}")


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One box: ``kind`` and ``status`` become CSS classes (``step succeeded``)."""

    id: str
    label: str
    kind: str = ""
    status: str = ""
    note: str = ""  # the second line: a duration, a kind
    href: str | None = None
    chosen: bool = False


def layers(ids: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Each node's layer: the length of the longest path reaching it from a source. Nodes on
    a cycle (a DAG has none; a damaged record might) go one layer past the others."""
    children: dict[str, list[str]] = {i: [] for i in ids}
    waiting = dict.fromkeys(ids, 0)
    for a, b in edges:
        if a in children and b in waiting and a != b:
            children[a].append(b)
            waiting[b] += 1
    layer = dict.fromkeys(ids, 0)
    ready = deque(i for i in ids if waiting[i] == 0)
    while ready:
        node = ready.popleft()
        for child in children[node]:
            layer[child] = max(layer[child], layer[node] + 1)
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    stuck = [i for i in ids if waiting[i] > 0]
    if stuck:
        last = max(layer.values()) + 1
        for node in stuck:
            layer[node] = last
    return layer


def _rows(
    ids: Sequence[str], layer: dict[str, int], edges: Sequence[tuple[str, str]]
) -> dict[str, int]:
    """Each node's row in its layer, ordered by the mean row of its parents (fewer
    crossings than the input order, in one pass)."""
    parents: dict[str, list[str]] = {}
    for a, b in edges:
        parents.setdefault(b, []).append(a)
    row: dict[str, int] = {}
    by_layer: dict[int, list[str]] = {}
    for node in ids:
        by_layer.setdefault(layer[node], []).append(node)
    for number in sorted(by_layer):
        members = by_layer[number]
        order = {node: i for i, node in enumerate(members)}

        def weight(node: str, order: dict[str, int] = order) -> tuple[float, int]:
            seen = [row[p] for p in parents.get(node, []) if p in row]
            return (sum(seen) / len(seen) if seen else float(order[node]), order[node])

        for i, node in enumerate(sorted(members, key=weight)):
            row[node] = i
    return row


def _css(value: str) -> str:
    value = value.lower()
    return value if _CLASS.fullmatch(value) else "other"


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _box(node: GraphNode, x: int, y: int) -> str:
    named = [_css(value) for value in (node.kind, node.status) if value]
    classes = " ".join(["vertex", *named, *(["chosen"] if node.chosen else [])])
    title = escape(f"{node.label} ({node.status})" if node.status else node.label)
    inner = (
        f'<rect class="node" x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="5"/>'
        f'<text class="label" x="{x + 8}" y="{y + 16}">{escape(_short(node.label))}</text>'
        f'<text class="note" x="{x + 8}" y="{y + 32}">{escape(_short(node.note))}</text>'
    )
    if node.href is not None:
        inner = f'<a href="{escape(node.href)}">{inner}</a>'
    return (
        f'<g class="{classes}" data-id="{escape(node.id)}" data-status="{escape(node.status)}">'
        f"<title>{title}</title>{inner}</g>"
    )


def _edge(start: tuple[int, int], end: tuple[int, int], marker: str) -> str:
    (x1, y1), (x2, y2) = start, end
    bend = (x1 + x2) / 2
    return (
        f'<path class="edge" d="M{x1},{y1} C{bend:.0f},{y1} {bend:.0f},{y2} {x2},{y2}" '
        f'marker-end="url(#{marker})"/>'
    )


def dag_svg(
    name: str, nodes: Sequence[GraphNode], edges: Sequence[tuple[str, str]], label: str
) -> Markup:
    """``nodes`` (the first ``MAX_NODES``) and the ``edges`` (from, to) between them as an
    ``<svg class="graph">``; ``name`` tells graphs on one page apart, ``label`` is read out
    by screen readers."""
    shown = list({n.id: n for n in nodes[:MAX_NODES]}.values())
    ids = [n.id for n in shown]
    drawn = set(ids)
    kept = [(a, b) for a, b in dict.fromkeys(edges) if a in drawn and b in drawn]
    layer = layers(ids, kept)
    row = _rows(ids, layer, kept)
    at = {i: (PAD + layer[i] * (NODE_W + GAP_X), PAD + row[i] * (NODE_H + GAP_Y)) for i in ids}
    width = PAD * 2 + (max(layer.values(), default=0) + 1) * (NODE_W + GAP_X) - GAP_X
    height = PAD * 2 + (max(row.values(), default=0) + 1) * (NODE_H + GAP_Y) - GAP_Y
    marker = f"arrow-{_css(name)}"
    parts = [
        f'<svg class="graph" id="{escape(name)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'data-nodes="{len(shown)}" data-edges="{len(kept)}" data-total="{len(nodes)}">',
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#9aa3af"/>'
        "</marker></defs>",
    ]
    for a, b in kept:
        (xa, ya), (xb, yb) = at[a], at[b]
        parts.append(_edge((xa + NODE_W, ya + NODE_H // 2), (xb, yb + NODE_H // 2), marker))
    parts += [_box(node, *at[node.id]) for node in shown]
    parts.append("</svg>")
    if len(nodes) > len(shown):
        parts.append(
            f'<p class="muted graph-cut">The first {len(shown)} of {len(nodes)} nodes are '
            "drawn.</p>"
        )
    return Markup("".join(parts))


__all__ = ["MAX_NODES", "GraphNode", "dag_svg", "layers"]
