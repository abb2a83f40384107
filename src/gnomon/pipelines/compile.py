"""Compiling a pipeline for a Kubernetes workflow engine: Argo Workflows or Kubeflow Pipelines.

Both targets get the same shape: one container per node, each running
``python -m gnomon.pipelines.step_entry`` on the pipeline's own code in the given image, the
steps passing each other the small JSON of their outputs' digests (the values stay in the
artifact store). This module holds what both compilers share: the command a node runs, the
names the engines accept, the parameters' text form and the resource quantities.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from gnomon.errors import InvalidInput
from gnomon.pipelines.params import check_values
from gnomon.pipelines.spec import PipelineSpec, Resources

TARGETS = ("argo", "kfp")
OUTPUTS_FILE = "/tmp/gnomon/outputs.json"  # where a step container writes its outputs' JSON
_NAME_MAX = 50  # DNS-1123 labels stop at 63; leave room for a "-N" suffix and engine prefixes
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def compile_pipeline(
    spec: PipelineSpec,
    target: str,
    *,
    image: str,
    params: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
) -> str:
    """``spec`` as YAML for ``target`` (argo or kfp); ``params`` become the defaults."""
    import yaml

    if target == "argo":
        from gnomon.pipelines.compile_argo import argo_workflow

        document = argo_workflow(spec, params, image, env=env)
    elif target == "kfp":
        from gnomon.pipelines.compile_kfp import kfp_pipeline

        document = kfp_pipeline(spec, params, image, env=env)
    else:
        raise InvalidInput(f"unknown target {target[:40]!r}: use one of {', '.join(TARGETS)}")
    text: str = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000)
    return text


def checked(spec: PipelineSpec, image: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """What both targets check first: the DAG, the image, and the parameters' values."""
    spec.validate()
    check_image(image)
    return param_values(spec, params)


def check_image(image: str) -> str:
    if not image.strip() or any(c.isspace() for c in image) or len(image) > 1000:
        raise InvalidInput(f"an image is given as a name like registry/app:tag, not {image[:80]!r}")
    return image


def param_values(spec: PipelineSpec, given: Mapping[str, Any]) -> dict[str, Any]:
    """Each parameter's value where one is known (given, else its default), type-checked;
    a required one not given is left out: the engine asks for it when the workflow is sent."""
    known = {param.name for param in spec.params}
    unknown = sorted(set(given) - known)
    if unknown:
        raise InvalidInput(
            f"pipeline {spec.name!r} has no parameter {unknown[0]!r}; "
            f"it takes {', '.join(sorted(known)) or 'none'}"
        )
    for param in spec.params:
        if not _PARAM_NAME.match(param.name):
            raise InvalidInput(f"parameter {param.name!r} is not an ASCII name a workflow takes")
    present = [p for p in spec.params if p.name in given or not p.required]
    values = {p.name: given.get(p.name, p.default) for p in present}
    return check_values(replace(spec, params=tuple(present)), values)


def param_text(value: Any) -> str:
    """A value as ``gnomon pipeline run -p name=TEXT`` takes it (step_entry parses it back
    by the parameter's annotation)."""
    return value if isinstance(value, str) else json.dumps(value)


def dns_names(ids: Iterable[str], reserved: Iterable[str] = ()) -> dict[str, str]:
    """A DNS-1123 label for each node id (what pods and engine task names allow), distinct
    from each other and from ``reserved``: a clash after cleaning gets ``-2``, ``-3``, …"""
    used = set(reserved)
    names: dict[str, str] = {}
    for node_id in ids:
        base = re.sub(r"[^a-z0-9]+", "-", node_id.lower()).strip("-")[:_NAME_MAX].strip("-")
        if not base or base[0].isdigit():
            base = f"s-{base}".strip("-")  # Argo refuses task names that start with a digit
        name, count = base, 1
        while name in used:
            count += 1
            name = f"{base}-{count}"
        used.add(name)
        names[node_id] = name
    return names


def cpu_quantity(cpus: float) -> str:
    millis = max(1, math.ceil(cpus * 1000))
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def gpu_count(resources: Resources) -> int:
    return math.ceil(resources.gpus)  # Kubernetes hands out whole GPUs


def step_command() -> list[str]:
    return ["python", "-m", "gnomon.pipelines.step_entry"]


def step_args(
    spec: PipelineSpec,
    node_id: str,
    params: Mapping[str, str],
    upstream: Mapping[str, str],
    out: str,
    extra: Iterable[str] = (),
) -> list[str]:
    """``params``: name → the engine's placeholder for its text; ``upstream``: node id → the
    placeholder for the JSON that node wrote."""
    if not spec.function or spec.function.startswith("__main__:"):
        raise InvalidInput(
            f"pipeline {spec.name!r} is not defined in an importable module, so a container "
            "cannot load it: define it in a module and name it as module:attribute"
        )
    args = ["--pipeline", spec.function, "--node", node_id]
    for name, placeholder in params.items():
        args += ["--param", f"{name}={placeholder}"]
    for source, placeholder in upstream.items():
        args += ["--upstream", source, placeholder]
    return [*args, *extra, "--out", out]


__all__ = ["TARGETS", "compile_pipeline", "dns_names"]
