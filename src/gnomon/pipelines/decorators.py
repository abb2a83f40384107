"""``@step`` and ``@pipeline``: thin sugar that turns typed functions into spec objects.

Calling a step inside a pipeline function records a node and returns a reference to its
output(s); calling it anywhere else just calls the function, so steps stay unit-testable.
A pipeline function is called once, with symbolic parameters, to build its DAG: the DAG is
static, like Kubeflow's, so it can be checked, cached, compiled and resumed as a whole.
"""

from __future__ import annotations

import contextvars
import inspect
import json
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from gnomon.errors import InvalidInput
from gnomon.pipelines.codehash import code_hash
from gnomon.pipelines.spec import (
    Binding,
    Node,
    OutputOf,
    OutputsOf,
    ParamOf,
    ParamSpec,
    PipelineSpec,
    Port,
    Resources,
    StepSpec,
    Value,
)

F = TypeVar("F", bound=Callable[..., Any])
_BUILDING: contextvars.ContextVar[_Builder | None] = contextvars.ContextVar(
    "gnomon_pipeline_builder", default=None
)
_REGISTRY: dict[str, Any] = {}  # "module:qualname" → Step/Pipeline, inherited by forked workers


def _function_ref(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


def resolve(ref: str) -> Any:
    """The Step or Pipeline a ``module:qualname`` reference names (registry, then import)."""
    found = _REGISTRY.get(ref)
    if found is not None:
        return found
    import importlib

    module, _, qualname = ref.partition(":")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


class _Symbol:
    """What a pipeline function holds while it is built: it can only be passed to steps."""

    def _misuse(self, *_: Any, **__: Any) -> Any:
        raise InvalidInput(
            f"{self!r} is only known when the pipeline runs: pass it to a step, do not "
            "compute with it or test it in the pipeline function"
        )

    __bool__ = __iter__ = __len__ = __index__ = __int__ = __float__ = _misuse
    __add__ = __radd__ = __sub__ = __mul__ = __truediv__ = __lt__ = __gt__ = _misuse
    __le__ = __ge__ = __getitem__ = __contains__ = _misuse


@dataclass(frozen=True, eq=False)
class OutputRef(_Symbol):
    node: str
    output: str = "output"

    def __repr__(self) -> str:
        return f"output {self.output!r} of step {self.node!r}"


@dataclass(frozen=True, eq=False)
class ParamRef(_Symbol):
    name: str

    def __repr__(self) -> str:
        return f"pipeline parameter {self.name!r}"


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.counts: dict[str, int] = {}

    def add(self, step: Step[Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        spec = step.spec
        try:
            bound = step.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise InvalidInput(f"step {spec.name!r}: {exc}") from None
        count = self.counts.get(spec.name, 0) + 1
        self.counts[spec.name] = count
        node_id = spec.name if count == 1 else f"{spec.name}-{count}"
        bindings = {name: _binding(node_id, name, v) for name, v in bound.arguments.items()}
        self.nodes.append(Node(node_id, spec, bindings))
        refs = tuple(OutputRef(node_id, port.name) for port in spec.outputs)
        if len(refs) == 1:
            return refs[0]
        return refs or None


def _binding(node_id: str, name: str, value: Any) -> Binding:
    if isinstance(value, OutputRef):
        return OutputOf(value.node, value.output)
    if isinstance(value, (list, tuple)) and any(isinstance(v, _Symbol) for v in value):
        if not all(isinstance(v, OutputRef) for v in value):
            raise InvalidInput(
                f"step {node_id!r}: the list given to input {name!r} mixes step outputs with "
                "other values; give a list of step outputs only"
            )
        return OutputsOf(tuple(OutputOf(v.node, v.output) for v in value))
    if isinstance(value, ParamRef):
        return ParamOf(value.name)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"step {node_id!r}: input {name!r} is given a {type(value).__name__}, which is "
            "not a JSON value; pass it as a pipeline parameter or produce it in a step"
        ) from None
    return Value(value)


class Step(Generic[F]):
    """A function made a pipeline step; ``step.spec`` is its plain description."""

    def __init__(self, fn: F, spec: StepSpec) -> None:
        self.fn = fn
        self.spec = spec
        self.signature = inspect.signature(fn)
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn
        _REGISTRY[spec.function] = self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        builder = _BUILDING.get()
        if builder is None:
            return self.fn(*args, **kwargs)
        return builder.add(self, args, kwargs)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return resolve, (self.spec.function,)  # by reference: workers import, never unpickle code

    def __repr__(self) -> str:
        return f"<step {self.spec.name}>"


class Pipeline:
    """A function made a pipeline: ``build()`` gives its checked ``PipelineSpec``."""

    def __init__(self, fn: Callable[..., Any], name: str) -> None:
        self.fn = fn
        self.name = name
        self.function = _function_ref(fn)
        self.params = _params(fn)
        self.__doc__ = fn.__doc__
        self._spec: PipelineSpec | None = None
        _REGISTRY[self.function] = self

    def build(self) -> PipelineSpec:
        if self._spec is None:
            builder = _Builder()
            token = _BUILDING.set(builder)
            try:
                self.fn(**{param.name: ParamRef(param.name) for param in self.params})
            finally:
                _BUILDING.reset(token)
            spec = PipelineSpec(self.name, tuple(builder.nodes), self.params, self.function)
            spec.validate()
            self._spec = spec
        return self._spec

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _BUILDING.get() is not None:
            raise InvalidInput(f"pipeline {self.name!r} cannot be called inside another pipeline")
        return self.fn(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return resolve, (self.function,)

    def __repr__(self) -> str:
        return f"<pipeline {self.name}>"


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # an annotation naming something not importable here: treat as Any
        return {}


def _params(fn: Callable[..., Any]) -> tuple[ParamSpec, ...]:
    hints = _hints(fn)
    params = []
    for parameter in inspect.signature(fn).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise InvalidInput(f"{fn.__qualname__}: *args and **kwargs are not parameters")
        required = parameter.default is parameter.empty
        default = None if required else parameter.default
        params.append(ParamSpec(parameter.name, hints.get(parameter.name, Any), default, required))
    return tuple(params)


def _outputs(fn: Callable[..., Any], names: Sequence[str] | None) -> tuple[Port, ...]:
    returned = _hints(fn).get("return", Any)
    if returned is type(None):
        return ()
    fields = getattr(returned, "_fields", None)
    if names is None and fields is not None:  # a NamedTuple names its outputs
        types = typing.get_type_hints(returned)
        return tuple(Port(name, types.get(name, Any)) for name in fields)
    if names is None:
        return (Port("output", returned),)
    names = list(names)
    if len(set(names)) != len(names) or not names:
        raise InvalidInput(f"step {fn.__qualname__}: outputs must be distinct names")
    members = typing.get_args(returned) if typing.get_origin(returned) is tuple else ()
    if len(members) == len(names) and Ellipsis not in members:
        return tuple(Port(n, t) for n, t in zip(names, members, strict=True))
    return tuple(Port(name) for name in names)


@overload
def step(fn: F, /) -> Step[F]: ...


@overload
def step(
    *,
    name: str | None = None,
    outputs: Sequence[str] | None = None,
    retries: int = 0,
    backoff: float = 1.0,
    timeout: float | None = None,
    cache: bool = True,
    cpus: float = 1.0,
    gpus: float = 0.0,
    memory_mb: int | None = None,
    env: Sequence[str] = (),
) -> Callable[[F], Step[F]]: ...


def step(
    fn: Any = None,
    /,
    *,
    name: str | None = None,
    outputs: Sequence[str] | None = None,
    retries: int = 0,
    backoff: float = 1.0,
    timeout: float | None = None,
    cache: bool = True,
    cpus: float = 1.0,
    gpus: float = 0.0,
    memory_mb: int | None = None,
    env: Sequence[str] = (),
) -> Any:
    """Make a typed function a pipeline step.

    ``outputs`` names several outputs (the function returns a tuple, or a NamedTuple names
    them itself); ``retries`` with ``backoff`` seconds doubling; ``timeout`` in seconds;
    ``cache=False`` always runs it; ``env`` lists packages whose versions join its cache key.
    """

    def wrap(function: F) -> Step[F]:
        if not callable(function):
            raise InvalidInput("@step decorates a function")
        if retries < 0 or retries > 100:
            raise InvalidInput(f"retries must be 0..100, not {retries}")
        if timeout is not None and not 0 < timeout <= 7 * 86400:
            raise InvalidInput(f"timeout must be a number of seconds up to a week, not {timeout}")
        if not 0 <= backoff <= 3600:
            raise InvalidInput(f"backoff must be 0..3600 seconds, not {backoff}")
        hints = _hints(function)
        inputs, defaults = [], {}
        for parameter in inspect.signature(function).parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise InvalidInput(
                    f"step {function.__qualname__}: *args and **kwargs are not inputs"
                )
            inputs.append(Port(parameter.name, hints.get(parameter.name, Any)))
            if parameter.default is not parameter.empty:
                defaults[parameter.name] = parameter.default
        spec = StepSpec(
            name=name or function.__name__,
            function=_function_ref(function),
            inputs=tuple(inputs),
            outputs=_outputs(function, outputs),
            defaults=defaults,
            resources=Resources(cpus, gpus, memory_mb),
            retries=retries,
            backoff=backoff,
            timeout=timeout,
            cache=cache,
            env=tuple(env),
            code_hash=code_hash(function),
        )
        return Step(function, spec)

    return wrap(fn) if fn is not None else wrap


def pipeline(fn: Any = None, /, *, name: str | None = None) -> Any:
    """Make a function that calls steps a pipeline; its parameters are the pipeline's."""

    def wrap(function: Callable[..., Any]) -> Pipeline:
        return Pipeline(function, name or function.__name__)

    return wrap(fn) if fn is not None else wrap


def step_params(spec: PipelineSpec, given: Mapping[str, Any]) -> dict[str, Any]:
    """The pipeline's parameter values: defaults filled in, unknown or missing names refused."""
    known = {param.name: param for param in spec.params}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InvalidInput(
            f"pipeline {spec.name!r} has no parameter {unknown[0]!r}; "
            f"it takes {', '.join(known) or 'none'}"
        )
    values = {}
    for param in spec.params:
        if param.name in given:
            values[param.name] = given[param.name]
        elif param.required:
            raise InvalidInput(f"pipeline {spec.name!r} needs parameter {param.name!r}")
        else:
            values[param.name] = param.default
    return values


__all__ = [
    "OutputRef",
    "ParamRef",
    "Pipeline",
    "Step",
    "pipeline",
    "resolve",
    "step",
    "step_params",
]
