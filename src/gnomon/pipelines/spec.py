"""Plain spec objects for steps and pipelines, and the checks a DAG passes before it runs.

The decorators in ``decorators.py`` are sugar over these: a pipeline can also be built by
hand (or read back from JSON), and ``PipelineSpec.validate`` then catches what a decorator
would have prevented — a cycle, an unknown step or output, an unbound input.
"""

from __future__ import annotations

import typing
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gnomon.errors import InvalidInput
from gnomon.pipelines.typing_check import compatible, type_name

MAX_NODES = 20_000  # a DAG this large is a mistake (a loop building steps), not a pipeline


@dataclass(frozen=True, slots=True)
class Port:
    """A named input or output of a step and its declared Python type (``Any`` if none)."""

    name: str
    type: Any = Any

    @property
    def type_name(self) -> str:
        return type_name(self.type)


@dataclass(frozen=True, slots=True)
class Resources:
    cpus: float = 1.0
    gpus: float = 0.0
    memory_mb: int | None = None


@dataclass(frozen=True, slots=True)
class StepSpec:
    """What a step is: its function (``module:qualname``), typed ports and run settings."""

    name: str
    function: str
    inputs: tuple[Port, ...] = ()
    outputs: tuple[Port, ...] = (Port("output"),)
    defaults: Mapping[str, Any] = field(default_factory=dict)  # inputs with a default value
    resources: Resources = Resources()
    retries: int = 0
    backoff: float = 1.0  # seconds before the first retry; doubled for each next one
    timeout: float | None = None
    cache: bool = True
    env: tuple[str, ...] = ()  # packages whose installed versions join the cache key
    code_hash: str = ""

    def input(self, name: str) -> Port | None:
        return next((port for port in self.inputs if port.name == name), None)

    def output(self, name: str) -> Port | None:
        return next((port for port in self.outputs if port.name == name), None)


@dataclass(frozen=True, slots=True)
class OutputOf:
    """An input bound to another node's output: the DAG's edges."""

    node: str
    output: str = "output"


@dataclass(frozen=True, slots=True)
class OutputsOf:
    """An input bound to a list of other nodes' outputs, in order: the fan-in of a fan-out."""

    items: tuple[OutputOf, ...]


@dataclass(frozen=True, slots=True)
class ParamOf:
    """An input bound to a pipeline parameter."""

    name: str


@dataclass(frozen=True, slots=True)
class Value:
    """An input bound to a constant (a JSON value)."""

    value: Any


Binding = OutputOf | OutputsOf | ParamOf | Value


@dataclass(frozen=True, slots=True)
class Node:
    """One call of a step in a pipeline; ``id`` is unique in the pipeline."""

    id: str
    step: StepSpec
    args: Mapping[str, Binding]
    after: tuple[str, ...] = ()  # ordering-only dependencies (no data passes)

    def params_read(self) -> list[str]:
        """The pipeline parameters this node's inputs read, each once, in order."""
        return list(dict.fromkeys(b.name for b in self.args.values() if isinstance(b, ParamOf)))


@dataclass(frozen=True, slots=True)
class ParamSpec:
    name: str
    type: Any = Any
    default: Any = None
    required: bool = True


@dataclass(frozen=True, slots=True)
class PipelineSpec:
    name: str
    nodes: tuple[Node, ...]
    params: tuple[ParamSpec, ...] = ()
    function: str = ""  # the pipeline function, ``module:qualname``, when built by decorator

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise InvalidInput(f"pipeline {self.name!r} has no step {node_id[:100]!r}")

    def upstream(self, node: Node) -> list[str]:
        found = []
        for binding in node.args.values():
            if isinstance(binding, OutputOf):
                found.append(binding.node)
            elif isinstance(binding, OutputsOf):
                found.extend(item.node for item in binding.items)
        return list(dict.fromkeys([*found, *node.after]))

    def validate(self) -> list[str]:
        """Check the DAG and return its node ids in an order where each comes after its inputs."""
        if len(self.nodes) > MAX_NODES:
            raise InvalidInput(
                f"pipeline {self.name!r} has {len(self.nodes)} steps (max {MAX_NODES})"
            )
        by_id: dict[str, Node] = {}
        for node in self.nodes:
            if node.id in by_id:
                raise InvalidInput(f"pipeline {self.name!r} has two steps named {node.id!r}")
            by_id[node.id] = node
        params = {param.name: param for param in self.params}
        for node in self.nodes:
            self._check_node(node, by_id, params)
        return _topological(self.name, by_id, self.upstream)

    def _check_node(
        self, node: Node, by_id: Mapping[str, Node], params: Mapping[str, ParamSpec]
    ) -> None:
        step = node.step
        for name in node.args:
            if step.input(name) is None:
                raise InvalidInput(f"step {node.id!r} has no input {name!r}")
        for port in step.inputs:
            if port.name not in node.args and port.name not in step.defaults:
                raise InvalidInput(f"step {node.id!r}: input {port.name!r} is not given")
        for other in node.after:
            if other not in by_id:
                raise InvalidInput(f"step {node.id!r} runs after an unknown step {other!r}")
        for name, binding in node.args.items():
            wanted = step.input(name)
            assert wanted is not None
            if isinstance(binding, ParamOf):
                param = params.get(binding.name)
                if param is None:
                    raise InvalidInput(
                        f"step {node.id!r}: input {name!r} reads an unknown parameter "
                        f"{binding.name!r}"
                    )
                if not compatible(param.type, wanted.type):
                    raise InvalidInput(
                        f"parameter {param.name!r} is {type_name(param.type)} but step "
                        f"{node.id!r} takes {name!r} as {wanted.type_name}"
                    )
            elif isinstance(binding, OutputsOf):
                element = list_element(wanted.type)
                for item in binding.items:
                    self._check_edge(node, name, item, Port(name, element), by_id)
            elif isinstance(binding, OutputOf):
                self._check_edge(node, name, binding, wanted, by_id)

    def _check_edge(
        self, node: Node, name: str, binding: OutputOf, wanted: Port, by_id: Mapping[str, Node]
    ) -> None:
        """One edge: the source step and output exist, and the types connect."""
        source = by_id.get(binding.node)
        if source is None:
            raise InvalidInput(
                f"step {node.id!r}: input {name!r} reads an unknown step {binding.node!r}"
            )
        produced = source.step.output(binding.output)
        if produced is None:
            raise InvalidInput(
                f"step {node.id!r}: input {name!r} reads {binding.node!r}, which has no "
                f"output {binding.output!r}"
            )
        if not compatible(produced.type, wanted.type):
            raise InvalidInput(
                f"type mismatch: step {source.id!r} gives {binding.output!r} as "
                f"{produced.type_name}, step {node.id!r} takes {name!r} as "
                f"{wanted.type_name}"
            )


def list_element(kind: Any) -> Any:
    """What one element of a list-typed input is (``Any`` when the list says nothing)."""
    args = typing.get_args(kind)
    return args[0] if typing.get_origin(kind) in (list, tuple, Sequence) and args else Any


def _topological(pipeline: str, by_id: Mapping[str, Node], upstream: Any) -> list[str]:
    """Kahn's algorithm; what is left at the end lies on a cycle, which the error names."""
    waiting = {node_id: len(upstream(node)) for node_id, node in by_id.items()}
    downstream: dict[str, list[str]] = {node_id: [] for node_id in by_id}
    for node_id, node in by_id.items():
        for parent in upstream(node):
            downstream[parent].append(node_id)
    ready = deque(node_id for node_id, count in waiting.items() if count == 0)
    order: list[str] = []
    while ready:
        node_id = ready.popleft()
        order.append(node_id)
        for child in downstream[node_id]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    if len(order) < len(by_id):
        stuck = sorted(node_id for node_id, count in waiting.items() if count > 0)
        shown = ", ".join(repr(s) for s in stuck[:10])
        raise InvalidInput(f"pipeline {pipeline!r} has a cycle through steps {shown}")
    return order


__all__ = [
    "Binding",
    "Node",
    "OutputOf",
    "OutputsOf",
    "ParamOf",
    "ParamSpec",
    "PipelineSpec",
    "Port",
    "Resources",
    "StepSpec",
    "Value",
]
