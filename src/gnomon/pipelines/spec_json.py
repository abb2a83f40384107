"""A PipelineSpec as JSON: stored with every run, shown in the UI, compiled for Argo/Kubeflow.

Types travel as their names: what is stored describes the DAG, it does not rebuild Python types.
"""

from __future__ import annotations

from typing import Any

from gnomon.pipelines.spec import (
    Binding,
    OutputOf,
    OutputsOf,
    ParamOf,
    PipelineSpec,
    StepSpec,
)
from gnomon.pipelines.typing_check import type_name


def step_to_dict(step: StepSpec) -> dict[str, Any]:
    return {
        "name": step.name,
        "function": step.function,
        "inputs": [{"name": p.name, "type": p.type_name} for p in step.inputs],
        "outputs": [{"name": p.name, "type": p.type_name} for p in step.outputs],
        "resources": {
            "cpus": step.resources.cpus,
            "gpus": step.resources.gpus,
            "memory_mb": step.resources.memory_mb,
        },
        "retries": step.retries,
        "backoff": step.backoff,
        "timeout": step.timeout,
        "cache": step.cache,
        "env": list(step.env),
        "code_hash": step.code_hash,
    }


def binding_to_dict(binding: Binding) -> dict[str, Any]:
    if isinstance(binding, OutputOf):
        return {"step": binding.node, "output": binding.output}
    if isinstance(binding, OutputsOf):
        return {"steps": [{"step": b.node, "output": b.output} for b in binding.items]}
    if isinstance(binding, ParamOf):
        return {"param": binding.name}
    return {"value": binding.value}


def spec_to_dict(spec: PipelineSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "function": spec.function,
        "params": [
            {
                "name": p.name,
                "type": type_name(p.type),
                "required": p.required,
                "default": p.default if _jsonable(p.default) else repr(p.default),
            }
            for p in spec.params
        ],
        "steps": [
            {
                "id": node.id,
                "step": step_to_dict(node.step),
                "args": {name: binding_to_dict(b) for name, b in node.args.items()},
                "after": list(node.after),
            }
            for node in spec.nodes
        ],
    }


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, list, dict))


__all__ = ["binding_to_dict", "spec_to_dict", "step_to_dict"]
