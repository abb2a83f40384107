"""A pipeline as an Argo Workflows ``Workflow``: one DAG task, and one container template,
per node.

Each step writes the JSON list of its outputs (digests, not values) to a file that its
template declares as the output parameter ``outputs``; a downstream task receives it as
``{{tasks.<task>.outputs.parameters.outputs}}`` in an input parameter, handed on to
step_entry as ``--upstream NODE JSON``. Pipeline parameters are the workflow's
``arguments.parameters``, in the text form ``gnomon pipeline run -p`` takes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from gnomon.pipelines.compile import (
    OUTPUTS_FILE,
    checked,
    cpu_quantity,
    dns_names,
    gpu_count,
    param_text,
    step_args,
    step_command,
)
from gnomon.pipelines.spec import Node, PipelineSpec, Resources

DAG_TEMPLATE = "pipeline"
GPU_RESOURCE = "nvidia.com/gpu"


def argo_workflow(
    spec: PipelineSpec,
    params: Mapping[str, Any],
    image: str,
    *,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The Workflow as a plain dict (YAML- and JSON-ready)."""
    values = checked(spec, image, params)
    names = dns_names((node.id for node in spec.nodes), reserved=[DAG_TEMPLATE])
    tasks: list[dict[str, Any]] = []
    templates: list[dict[str, Any]] = [{"name": DAG_TEMPLATE, "dag": {"tasks": tasks}}]
    for node in spec.nodes:
        upstream = spec.upstream(node)
        task: dict[str, Any] = {"name": names[node.id], "template": names[node.id]}
        if upstream:
            task["dependencies"] = [names[source] for source in upstream]
            task["arguments"] = {
                "parameters": [
                    {
                        "name": f"upstream-{i}",
                        "value": f"{{{{tasks.{names[source]}.outputs.parameters.outputs}}}}",
                    }
                    for i, source in enumerate(upstream)
                ]
            }
        tasks.append(task)
        templates.append(_template(spec, node, names[node.id], upstream, image, env or {}))
    parameters = []
    for param in spec.params:
        entry: dict[str, Any] = {"name": param.name}
        if param.name in values:
            entry["value"] = param_text(values[param.name])
        parameters.append(entry)
    workflow_spec: dict[str, Any] = {"entrypoint": DAG_TEMPLATE}
    if parameters:
        workflow_spec["arguments"] = {"parameters": parameters}
    workflow_spec["templates"] = templates
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "generateName": f"{dns_names([spec.name])[spec.name]}-",
            "annotations": {
                "gnomon/pipeline": spec.name,
                "gnomon/steps": json.dumps({names[n.id]: n.id for n in spec.nodes}),
            },
        },
        "spec": workflow_spec,
    }


def _template(
    spec: PipelineSpec,
    node: Node,
    name: str,
    upstream: list[str],
    image: str,
    env: Mapping[str, str],
) -> dict[str, Any]:
    step = node.step
    read = node.params_read()
    extra = ["--run-id", "{{workflow.uid}}"]
    if step.retries:
        extra += ["--retry", "{{retries}}"]  # Argo defines it only under a retryStrategy
    args = step_args(
        spec,
        node.id,
        {p: f"{{{{workflow.parameters.{p}}}}}" for p in read},
        {source: f"{{{{inputs.parameters.upstream-{i}}}}}" for i, source in enumerate(upstream)},
        OUTPUTS_FILE,
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
    template: dict[str, Any] = {"name": name}
    if upstream:
        template["inputs"] = {
            "parameters": [{"name": f"upstream-{i}"} for i in range(len(upstream))]
        }
    template["outputs"] = {"parameters": [{"name": "outputs", "valueFrom": {"path": OUTPUTS_FILE}}]}
    template["container"] = container
    if step.retries:
        template["retryStrategy"] = {
            "limit": step.retries,
            "retryPolicy": "Always",  # gnomon's runner retries any failure, errors included
            "backoff": {"duration": f"{step.backoff:g}s", "factor": 2},
        }
    if step.timeout is not None:
        template["activeDeadlineSeconds"] = math.ceil(step.timeout)
    return template


def _resources(resources: Resources) -> dict[str, Any]:
    requests = {"cpu": cpu_quantity(resources.cpus)}
    limits: dict[str, str] = {}
    if resources.memory_mb is not None:
        requests["memory"] = limits["memory"] = f"{resources.memory_mb}Mi"
    if gpu_count(resources):
        limits[GPU_RESOURCE] = str(gpu_count(resources))
    return {"requests": requests, **({"limits": limits} if limits else {})}


__all__ = ["argo_workflow"]
