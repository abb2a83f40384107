"""The server-drawn DAG: layers by longest path, every text escaped, bounded in size."""

from __future__ import annotations

import re

from gnomon.ui.graph_svg import MAX_NODES, GraphNode, dag_svg, layers
from gnomon.ui.pipeline_views import spec_nodes


def test_a_node_sits_one_layer_past_its_longest_way_in() -> None:
    edges = [("a", "b"), ("b", "c"), ("a", "c"), ("c", "d")]
    assert layers(["d", "c", "b", "a"], edges) == {"a": 0, "b": 1, "c": 2, "d": 3}


def test_a_cycle_is_drawn_past_the_rest_not_looped_on() -> None:
    found = layers(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "b")])
    assert found == {"a": 0, "b": 2, "c": 2}


def test_names_and_links_are_escaped_and_odd_statuses_are_no_classes() -> None:
    node = GraphNode("<x>", '<script>"', "step", 'ok" onload="x', href='/p?a=1&b="2"')
    svg = str(dag_svg("g", [node], [], "<label>"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'onload="x' not in svg and 'class="vertex step other"' in svg
    assert 'href="/p?a=1&amp;b=&#34;2&#34;"' in svg


def test_past_the_limit_the_first_nodes_are_drawn_and_the_rest_counted() -> None:
    nodes = [GraphNode(str(i), str(i)) for i in range(MAX_NODES + 20)]
    chain = [(str(i), str(i + 1)) for i in range(MAX_NODES + 19)]
    svg = str(dag_svg("g", nodes, chain, "chain"))
    assert len(re.findall(r'<g class="vertex', svg)) == MAX_NODES
    assert svg.count('class="edge"') == MAX_NODES - 1
    assert f"The first {MAX_NODES} of {MAX_NODES + 20} nodes" in svg


def test_a_stored_spec_gives_its_data_and_order_edges_and_ignores_junk() -> None:
    spec = {
        "steps": [
            {"id": "a", "args": {}},
            {"id": "b", "args": {"x": {"step": "a", "output": "output"}, "y": {"param": "n"}}},
            {"id": "c", "args": {"xs": {"steps": [{"step": "a"}, {"step": "b"}]}}, "after": ["a"]},
            {"id": 3},
            "junk",
        ]
    }
    ids, edges = spec_nodes(spec)
    assert ids == ["a", "b", "c"]
    assert edges == [("a", "b"), ("a", "c"), ("b", "c"), ("a", "c")]
    assert spec_nodes({"steps": "nope"}) == ([], [])
