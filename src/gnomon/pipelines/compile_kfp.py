"""A pipeline as Kubeflow Pipelines IR (``PipelineSpec``, schema 2.1.0): one component, one
container executor and one root DAG task per node.

Each step writes the JSON list of its outputs (digests, not values) to its output parameter
``outputs`` (a STRING); a downstream task takes it as an input parameter wired from the
producer's ``taskOutputParameter``, handed on to step_entry as ``--upstream NODE JSON``.
The IR has no per-task timeout, so step_entry enforces it itself (``--timeout``).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from gnomon._version import __version__
from gnomon.pipelines.compile import (
    checked,
    cpu_quantity,
    dns_names,
    gpu_count,
    param_text,
    step_args,
    step_command,
)
from gnomon.pipelines.spec import Node, ParamSpec, PipelineSpec, Resources

SCHEMA_VERSION = "2.1.0"
GPU_RESOURCE = "nvidia.com/gpu"
_TYPES = {
    int: "NUMBER_INTEGER",
    float: "NUMBER_DOUBLE",
    bool: "BOOLEAN",
    str: "STRING",
    list: "LIST",
    dict: "STRUCT",
}


def kfp_pipeline(
    spec: PipelineSpec,
    params: Mapping[str, Any],
    image: str,
    *,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The IR as a plain dict (YAML- and JSON-ready)."""
    values = checked(spec, image, params)
    names = dns_names(node.id for node in spec.nodes)
    root_params = {p.name: _root_param(p, values) for p in spec.params}
    components: dict[str, Any] = {}
    executors: dict[str, Any] = {}
    tasks: dict[str, Any] = {}
    for node in spec.nodes:
        name = names[node.id]
        upstream = spec.upstream(node)
        read = node.params_read()
        inputs = {  # the same types as the pipeline's: the backend checks what is wired
            f"param_{p}": {"parameterType": root_params[p]["parameterType"]} for p in read
        }
        inputs |= {f"upstream_{i}": {"parameterType": "STRING"} for i in range(len(upstream))}
        component: dict[str, Any] = {"executorLabel": f"exec-{name}"}
        if inputs:
            component["inputDefinitions"] = {"parameters": inputs}
        component["outputDefinitions"] = {"parameters": {"outputs": {"parameterType": "STRING"}}}
        components[f"comp-{name}"] = component
        executors[f"exec-{name}"] = {
            "container": _container(spec, node, read, upstream, image, env)
        }
        tasks[name] = _task(node, name, read, [names[s] for s in upstream])
    root: dict[str, Any] = {"dag": {"tasks": tasks}}
    if root_params:
        root["inputDefinitions"] = {"parameters": root_params}
    return {
        "pipelineInfo": {"name": dns_names([spec.name])[spec.name], "displayName": spec.name},
        "components": components,
        "deploymentSpec": {"executors": executors},
        "root": root,
        "schemaVersion": SCHEMA_VERSION,
        "sdkVersion": f"gnomon-{__version__}",
    }


def _task(node: Node, name: str, read: list[str], upstream: list[str]) -> dict[str, Any]:
    parameters: dict[str, Any] = {f"param_{p}": {"componentInputParameter": p} for p in read}
    for i, producer in enumerate(upstream):
        parameters[f"upstream_{i}"] = {
            "taskOutputParameter": {"producerTask": producer, "outputParameterKey": "outputs"}
        }
    task: dict[str, Any] = {
        "taskInfo": {"name": node.id},
        "componentRef": {"name": f"comp-{name}"},
        "cachingOptions": {"enableCache": node.step.cache},
    }
    if upstream:
        task["dependentTasks"] = upstream
    if parameters:
        task["inputs"] = {"parameters": parameters}
    if node.step.retries:
        task["retryPolicy"] = {
            "maxRetryCount": node.step.retries,
            "backoffDuration": f"{node.step.backoff:g}s",
            "backoffFactor": 2.0,
            "backoffMaxDuration": "3600s",
        }
    return task


def _container(
    spec: PipelineSpec,
    node: Node,
    read: list[str],
    upstream: list[str],
    image: str,
    env: Mapping[str, str] | None,
) -> dict[str, Any]:
    step = node.step
    extra = ["--run-id", "{{$.pipeline_job_uuid}}"]
    if step.timeout is not None:
        extra += ["--timeout", f"{step.timeout:g}"]
    args = step_args(
        spec,
        node.id,
        {p: f"{{{{$.inputs.parameters['param_{p}']}}}}" for p in read},
        {s: f"{{{{$.inputs.parameters['upstream_{i}']}}}}" for i, s in enumerate(upstream)},
        "{{$.outputs.parameters['outputs'].output_file}}",
        extra,
    )
    container: dict[str, Any] = {
        "image": image,
        "command": step_command(),
        "args": args,
        "resources": _resources(step.resources),
    }
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return container


def _resources(resources: Resources) -> dict[str, Any]:
    found: dict[str, Any] = {"resourceCpuRequest": cpu_quantity(resources.cpus)}
    if resources.memory_mb is not None:
        found["resourceMemoryRequest"] = found["resourceMemoryLimit"] = f"{resources.memory_mb}Mi"
    if gpu_count(resources):
        found["accelerator"] = {
            "resourceType": GPU_RESOURCE,
            "resourceCount": str(gpu_count(resources)),
        }
    return found


def _root_param(param: ParamSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(param.type) or param.type
    kind = _TYPES.get(origin, "STRING") if isinstance(origin, type) else "STRING"
    found: dict[str, Any] = {"parameterType": kind}
    if param.name in values:
        value = values[param.name]
        if value is None or (kind == "STRING" and not isinstance(value, str)):
            kind = found["parameterType"] = "STRING"  # null has no typed form: its text
            value = param_text(value)
        elif kind == "NUMBER_DOUBLE":
            value = float(value)
        found["defaultValue"] = value
        found["isOptional"] = True
    return found


__all__ = ["kfp_pipeline"]
