"""``gnomon lineage OBJECT``: where an object came from and what was made from it, as a tree;
``gnomon lineage prediction REQUEST_ID``: where one prediction came from."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.text import Text
from rich.tree import Tree

from gnomon.cli.output import (
    OutputFormat,
    OutputOption,
    client_of,
    console,
    format_time,
    print_json,
    printable,
    to_jsonable,
)
from gnomon.errors import InvalidInput
from gnomon.pipelines.entities import LineageGraph, LineageNode
from gnomon.pipelines.prediction_lineage import PredictionLineage

PREDICTION = "prediction"
SHOWN_PARAMS = 50  # params in the tree; -o json has them all
SHOWN_JSON = 300  # characters of a prediction's inputs or outputs in the tree

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
            "step:ID or artifact:DIGEST; or 'prediction REQUEST_ID' (or prediction:REQUEST_ID).",
            show_default=False,
        ),
    ],
    request_id: Annotated[
        str | None,
        typer.Argument(help="The request id, after 'prediction'.", show_default=False),
    ] = None,
    upstream: Annotated[bool, typer.Option("--upstream", help="Only where it came from.")] = False,
    downstream: Annotated[bool, typer.Option("--downstream", help="Only what used it.")] = False,
    depth: Annotated[int, typer.Option(help="How many links to follow (1..50).")] = 10,
    deployment: Annotated[
        str | None, typer.Option(help="A prediction: only search this deployment's records.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="A prediction: answered at or after (ISO time, local, or epoch ms)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="A prediction: answered before (ISO time or epoch ms).")
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Where an object came from (--upstream) and what used it (--downstream); where a
    prediction came from (deployment, model version, run, commit, data, features, params)."""
    asked = _prediction_id(ref, request_id)
    if asked is not None:
        found = client_of(ctx).pipelines.prediction_lineage(
            asked,
            deployment,
            since_ms=_millis("--since", since),
            until_ms=_millis("--until", until),
        )
        if output is OutputFormat.JSON:
            print_json(to_jsonable(found))
        else:
            console().print(render_prediction(found))
        return
    if request_id is not None or deployment or since or until:
        raise InvalidInput(
            "a request id, --deployment, --since and --until go with 'lineage prediction' only"
        )
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


def _prediction_id(ref: str, request_id: str | None) -> str | None:
    """The request id asked for (``prediction ID`` or ``prediction:ID``), None for a ref."""
    if ref == PREDICTION:
        if request_id is None:
            raise InvalidInput("which prediction? gnomon lineage prediction REQUEST_ID")
        return request_id
    if ref.startswith(PREDICTION + ":") and request_id is None:
        return ref.removeprefix(PREDICTION + ":")
    return None


def _millis(option: str, text: str | None) -> int | None:
    if text is None:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{option} {text[:40]!r} is neither an ISO time (2024-05-01T12:00) nor epoch ms"
        ) from None
    return int(moment.astimezone().timestamp() * 1000)  # a naive time is local time


def render_prediction(found: PredictionLineage) -> Tree:
    """deployment → model version → run → commit, data versions, feature views, params."""
    title = Text("🔮 prediction ", style="bold")
    title.append(printable(found.request_id), style="bold cyan")
    title.append(f"  {format_time(found.time_ms)}, {found.latency_ms:.1f} ms", style="dim")
    if found.rows > 1:
        title.append(f"  (row of a {found.rows}-row request)", style="dim")
    tree = Tree(title)
    tree.add(_pair("inputs", _short(found.inputs)))
    tree.add(_pair("outputs", _short(found.outputs)))
    served = tree.add(_line("🚀 deployment", found.deployment, f"as {found.role}"))
    model = found.model
    version = "(not registered)" if model.version is None else f"v{model.version}"
    extra = ", ".join(filter(None, [model.flavor, *(f"@{a}" for a in model.aliases)]))
    made = served.add(_line("📦 model", f"{model.name} {version}", extra))
    if found.pipeline_run_id:
        made.add(_line("⛓ pipeline run", found.pipeline_run_id))
    if found.run is not None:
        run = found.run
        where = f"{run.status}, experiment {run.experiment or run.experiment_id}"
        _grow_run(made.add(_line("▶ run", f"{run.name}  {run.id}", where)), found)
    for note in found.notes:
        tree.add(Text(f"note: {printable(note)}", style="yellow"))
    return tree


def _grow_run(branch: Tree, found: PredictionLineage) -> None:
    code = found.code
    if code is not None:
        dirty = {True: "uncommitted changes", False: "clean", None: ""}[code.dirty]
        at = f"{code.commit or '(no commit)'}" + (f" on {code.branch}" if code.branch else "")
        line = branch.add(_line("⎇ commit", at, dirty))
        if code.remote:
            line.add(_pair("remote", code.remote))
    data = branch.add(Text("🗃 data versions", style="bold"))
    for used in found.data:
        data.add(_pair(used.role, used.ref))
    if not found.data:
        data.add(Text("none recorded", style="dim"))
    features = branch.add(Text("◆ feature views", style="bold"))
    for view, version in found.features.items():
        features.add(_pair(view, f"v{version}"))
    if not found.features:
        features.add(Text("none recorded", style="dim"))
    params = branch.add(Text("⚙ params", style="bold"))
    for key, value in list(found.params.items())[:SHOWN_PARAMS]:
        params.add(_pair(key, value))
    if len(found.params) > SHOWN_PARAMS:
        params.add(Text(f"… {len(found.params) - SHOWN_PARAMS} more (-o json)", style="dim"))
    if not found.params:
        params.add(Text("none", style="dim"))


def _line(kind: str, name: str, extra: str = "") -> Text:
    label = Text(f"{kind} ", style="bold")
    label.append(printable(name))
    if extra:
        label.append(f"  ({printable(extra)})", style="dim")
    return label


def _pair(key: str, value: str) -> Text:
    label = Text(f"{printable(key)}: ", style="dim")
    label.append(printable(value))
    return label


def _short(value: Any) -> str:
    text = json.dumps(to_jsonable(value), ensure_ascii=False)
    return text if len(text) <= SHOWN_JSON else text[:SHOWN_JSON] + "…"


__all__ = ["lineage", "render", "render_prediction"]
