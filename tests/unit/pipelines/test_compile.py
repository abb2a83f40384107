"""Compiling pipelines for Argo Workflows and Kubeflow Pipelines, checked against each
engine's own schema.

Argo: hera's models, generated from Argo's OpenAPI spec; they ignore unknown fields, so a
document must also come back unchanged from them (a misspelt or unknown field is dropped, a
value of the wrong type is refused or coerced: either way it differs). Kubeflow: the official
``kfp-pipeline-spec`` protobuf, whose JSON parser refuses unknown fields and wrong types; its
``deploymentSpec`` is a free-form Struct in ``PipelineSpec``, so it is parsed on its own as
the ``PipelineDeploymentConfig`` it is. On top, the references the schemas cannot see (a task
naming its template, component or producer) are checked by hand.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from typing import Any

import pytest
import yaml
from google.protobuf import json_format
from hera.workflows.models import Workflow
from kfp.pipeline_spec import pipeline_spec_pb2

import gnomon
from gnomon.errors import InvalidInput
from gnomon.pipelines.compile import compile_pipeline, dns_names
from gnomon.pipelines.compile_argo import argo_workflow
from gnomon.pipelines.compile_kfp import kfp_pipeline

IMAGE = "registry.example/team/app:1.0"
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


@gnomon.step
def numbers(n: int) -> list[int]:
    return list(range(n))


@gnomon.step(retries=2, backoff=1.5, timeout=30.5, cpus=0.5, memory_mb=512)
def left(values: list[int]) -> int:
    return sum(values)


@gnomon.step(gpus=0.5, cache=False)
def right(values: list[int], scale: float) -> float:
    return max(values) * scale


@gnomon.step(name="join")
def join_(a: int, b: float, label: str = "x") -> str:
    return f"{label}:{a}:{b}"


@gnomon.pipeline
def diamond(n: int = 3, scale: float = 2.0, label: str = "hello"):
    values = numbers(n)
    return join_(left(values), right(values, scale), label)


@gnomon.step
def shard(values: list[int], index: int) -> int:
    return values[index]


@gnomon.step
def gather(a: int, b: int, c: int) -> int:
    return a + b + c


@gnomon.pipeline
def fan_out(n: int, tags: list[str] | None = None):
    values = numbers(n)
    parts = [shard(values, i) for i in range(3)]
    return gather(*parts)


@gnomon.step(name="Train Model")
def train_spaced(n: int) -> int:
    return n


@gnomon.step(name="train_model")
def train_snake(n: int) -> int:
    return n


@gnomon.step(name="pipeline")
def named_pipeline(a: int, b: int) -> int:
    return a + b


@gnomon.step(name="1st")
def first(n: int) -> int:
    return n


@gnomon.pipeline(name="Clashing Names!")
def clashing(n: int = 1):
    return named_pipeline(train_spaced(n), train_snake(first(n)))


# --- the validators ------------------------------------------------------------------------


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}"
            found = _first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return ""
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return ""
    return "" if a == b and type(a) is type(b) else path or "."


def validate_argo(document: dict[str, Any]) -> None:
    """Raise when Argo's schema, or a reference inside the document, is broken."""
    back = Workflow.model_validate(document).model_dump(
        by_alias=True, exclude_none=True, mode="json"
    )
    difference = _first_difference(document, back)
    if difference:
        raise ValueError(f"not an Argo Workflow as written: {difference} changes in its schema")
    spec = document["spec"]
    templates = {t["name"]: t for t in spec["templates"]}
    dag = templates[spec["entrypoint"]]["dag"]
    tasks = {task["name"]: task for task in dag["tasks"]}
    globals_ = {p["name"] for p in spec.get("arguments", {}).get("parameters", [])}
    for name, task in tasks.items():
        assert DNS_LABEL.match(name), name
        template = templates[task["template"]]
        dependencies = task.get("dependencies", [])
        assert set(dependencies) <= set(tasks), (name, dependencies)
        given = {p["name"]: p["value"] for p in task.get("arguments", {}).get("parameters", [])}
        declared = {p["name"] for p in template.get("inputs", {}).get("parameters", [])}
        assert set(given) == declared, (name, given, declared)
        for value in given.values():
            for source in re.findall(r"\{\{tasks\.([^.]+)\.outputs\.parameters\.outputs}}", value):
                assert source in dependencies, (name, source)
        text = json.dumps(template["container"]["args"])
        assert set(re.findall(r"\{\{inputs\.parameters\.([^}]+)}}", text)) <= declared
        assert set(re.findall(r"\{\{workflow\.parameters\.([^}]+)}}", text)) <= globals_
        if "{{retries}}" in text:
            assert "retryStrategy" in template, name  # Argo defines it only there


def validate_kfp(document: dict[str, Any]) -> None:
    """Raise when the KFP IR schema, or a reference inside the document, is broken."""
    json_format.ParseDict(document, pipeline_spec_pb2.PipelineSpec())
    json_format.ParseDict(document["deploymentSpec"], pipeline_spec_pb2.PipelineDeploymentConfig())
    assert document["schemaVersion"] == "2.1.0"
    assert re.match(r"^[a-z0-9][a-z0-9-]{0,127}$", document["pipelineInfo"]["name"])
    components = document["components"]
    executors = document["deploymentSpec"]["executors"]
    root_params = document["root"].get("inputDefinitions", {}).get("parameters", {})
    tasks = document["root"]["dag"]["tasks"]
    for name, task in tasks.items():
        assert DNS_LABEL.match(name), name
        component = components[task["componentRef"]["name"]]
        container = executors[component["executorLabel"]]["container"]
        wanted = component.get("inputDefinitions", {}).get("parameters", {})
        given = task.get("inputs", {}).get("parameters", {})
        assert set(given) == set(wanted), (name, given, wanted)
        for key, source in given.items():
            if "componentInputParameter" in source:
                root = root_params[source["componentInputParameter"]]
                assert root["parameterType"] == wanted[key]["parameterType"], (name, key)
            else:
                producer = source["taskOutputParameter"]["producerTask"]
                assert producer in task.get("dependentTasks", []), (name, producer)
                outputs = components[tasks[producer]["componentRef"]["name"]]["outputDefinitions"]
                assert source["taskOutputParameter"]["outputParameterKey"] in outputs["parameters"]
        assert set(task.get("dependentTasks", [])) <= set(tasks)
        text = json.dumps(container["args"])
        assert set(re.findall(r"inputs\.parameters\['([^']+)'\]", text)) <= set(wanted)


def _argo_tasks(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    dag = document["spec"]["templates"][0]["dag"]
    return {task["name"]: task for task in dag["tasks"]}


def _argo_templates(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in document["spec"]["templates"]}


def _arg(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


# --- the tests -----------------------------------------------------------------------------


def test_diamond_compiles_to_a_valid_argo_workflow() -> None:
    document = argo_workflow(diamond.build(), {"n": 5}, IMAGE)
    validate_argo(document)
    assert document["apiVersion"] == "argoproj.io/v1alpha1"
    assert document["kind"] == "Workflow"
    assert document["spec"]["arguments"]["parameters"] == [
        {"name": "n", "value": "5"},
        {"name": "scale", "value": "2.0"},
        {"name": "label", "value": "hello"},
    ]
    tasks = _argo_tasks(document)
    assert "dependencies" not in tasks["numbers"]
    assert tasks["left"]["dependencies"] == tasks["right"]["dependencies"] == ["numbers"]
    assert tasks["join"]["dependencies"] == ["left", "right"]
    assert tasks["join"]["arguments"]["parameters"] == [
        {"name": "upstream-0", "value": "{{tasks.left.outputs.parameters.outputs}}"},
        {"name": "upstream-1", "value": "{{tasks.right.outputs.parameters.outputs}}"},
    ]
    templates = _argo_templates(document)
    assert templates["left"]["retryStrategy"] == {
        "limit": 2,
        "retryPolicy": "Always",
        "backoff": {"duration": "1.5s", "factor": 2},
    }
    assert templates["left"]["activeDeadlineSeconds"] == 31  # 30.5 s, rounded up
    assert "retryStrategy" not in templates["right"]
    assert "activeDeadlineSeconds" not in templates["right"]
    assert templates["left"]["container"]["resources"] == {
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"memory": "512Mi"},
    }
    assert templates["right"]["container"]["resources"] == {
        "requests": {"cpu": "1"},
        "limits": {"nvidia.com/gpu": "1"},  # half a GPU is a whole one on Kubernetes
    }
    container = templates["join"]["container"]
    assert container["image"] == IMAGE
    assert container["command"] == ["python", "-m", "gnomon.pipelines.step_entry"]
    args = container["args"]
    assert _arg(args, "--pipeline") == [diamond.function]
    assert _arg(args, "--node") == ["join"]
    assert _arg(args, "--param") == ["label={{workflow.parameters.label}}"]
    assert [args[i + 1 : i + 3] for i, a in enumerate(args) if a == "--upstream"] == [
        ["left", "{{inputs.parameters.upstream-0}}"],
        ["right", "{{inputs.parameters.upstream-1}}"],
    ]
    assert templates["join"]["outputs"]["parameters"] == [
        {"name": "outputs", "valueFrom": {"path": _arg(args, "--out")[0]}}
    ]


def test_diamond_compiles_to_a_valid_kfp_pipeline_spec() -> None:
    document = kfp_pipeline(diamond.build(), {"scale": 4}, IMAGE)
    validate_kfp(document)
    assert document["root"]["inputDefinitions"]["parameters"] == {
        "n": {"parameterType": "NUMBER_INTEGER", "defaultValue": 3, "isOptional": True},
        "scale": {"parameterType": "NUMBER_DOUBLE", "defaultValue": 4.0, "isOptional": True},
        "label": {"parameterType": "STRING", "defaultValue": "hello", "isOptional": True},
    }
    tasks = document["root"]["dag"]["tasks"]
    assert "dependentTasks" not in tasks["numbers"]
    assert tasks["join"]["dependentTasks"] == ["left", "right"]
    assert tasks["join"]["inputs"]["parameters"]["upstream_1"] == {
        "taskOutputParameter": {"producerTask": "right", "outputParameterKey": "outputs"}
    }
    assert tasks["right"]["inputs"]["parameters"]["param_scale"] == {
        "componentInputParameter": "scale"
    }
    assert tasks["left"]["retryPolicy"] == {
        "maxRetryCount": 2,
        "backoffDuration": "1.5s",
        "backoffFactor": 2.0,
        "backoffMaxDuration": "3600s",
    }
    assert "retryPolicy" not in tasks["right"]
    assert tasks["right"]["cachingOptions"] == {"enableCache": False}
    executors = document["deploymentSpec"]["executors"]
    left_container = executors["exec-left"]["container"]
    assert _arg(left_container["args"], "--timeout") == ["30.5"]  # the IR has no task timeout
    assert "--timeout" not in executors["exec-right"]["container"]["args"]
    assert left_container["resources"] == {
        "resourceCpuRequest": "500m",
        "resourceMemoryRequest": "512Mi",
        "resourceMemoryLimit": "512Mi",
    }
    assert executors["exec-right"]["container"]["resources"]["accelerator"] == {
        "resourceType": "nvidia.com/gpu",
        "resourceCount": "1",
    }
    assert _arg(left_container["args"], "--out") == [
        "{{$.outputs.parameters['outputs'].output_file}}"
    ]


def test_fan_out_compiles_for_both_targets() -> None:
    spec = fan_out.build()
    argo = argo_workflow(spec, {"n": 4}, IMAGE)
    validate_argo(argo)
    tasks = _argo_tasks(argo)
    shards = ["shard", "shard-2", "shard-3"]
    for name in shards:
        assert tasks[name]["dependencies"] == ["numbers"]
    assert tasks["gather"]["dependencies"] == shards
    # a required parameter without a value is asked for when the workflow is submitted
    parameters = argo["spec"]["arguments"]["parameters"]
    assert parameters == [{"name": "n", "value": "4"}, {"name": "tags", "value": "null"}]
    assert "value" not in argo_workflow(spec, {}, IMAGE)["spec"]["arguments"]["parameters"][0]

    kfp = kfp_pipeline(spec, {}, IMAGE)
    validate_kfp(kfp)
    kfp_tasks = kfp["root"]["dag"]["tasks"]
    assert kfp_tasks["gather"]["dependentTasks"] == shards
    assert all(kfp_tasks[name]["dependentTasks"] == ["numbers"] for name in shards)
    assert kfp["root"]["inputDefinitions"]["parameters"] == {
        "n": {"parameterType": "NUMBER_INTEGER"},
        "tags": {"parameterType": "STRING", "defaultValue": "null", "isOptional": True},
    }


def test_names_that_clash_after_cleaning_get_distinct_ones() -> None:
    spec = clashing.build()
    assert [node.id for node in spec.nodes] == ["Train Model", "1st", "train_model", "pipeline"]
    argo = argo_workflow(spec, {}, IMAGE)
    validate_argo(argo)
    expected = {
        "train-model": "Train Model",
        "s-1st": "1st",
        "train-model-2": "train_model",
        "pipeline-2": "pipeline",  # "pipeline" is the DAG's own template
    }
    assert json.loads(argo["metadata"]["annotations"]["gnomon/steps"]) == expected
    assert argo["metadata"]["generateName"] == "clashing-names-"
    tasks = _argo_tasks(argo)
    assert set(tasks) == set(expected)
    assert tasks["pipeline-2"]["dependencies"] == ["train-model", "train-model-2"]
    templates = _argo_templates(argo)
    for name, node_id in expected.items():
        assert _arg(templates[name]["container"]["args"], "--node") == [node_id]

    kfp = kfp_pipeline(spec, {}, IMAGE)
    validate_kfp(kfp)
    tasks = kfp["root"]["dag"]["tasks"]
    assert set(tasks) == {"train-model", "s-1st", "train-model-2", "pipeline"}
    assert tasks["train-model-2"]["taskInfo"] == {"name": "train_model"}
    assert tasks["train-model-2"]["dependentTasks"] == ["s-1st"]
    assert kfp["pipelineInfo"] == {"name": "clashing-names", "displayName": "Clashing Names!"}


def test_dns_names_are_stable_labels() -> None:
    names = dns_names(["a", "A", "a-2", "--", "x" * 80, "ÄÖ", "9"], reserved=["b"])
    assert names == {
        "a": "a",
        "A": "a-2",
        "a-2": "a-2-2",
        "--": "s",
        "x" * 80: "x" * 50,
        "ÄÖ": "s-2",
        "9": "s-9",
    }
    assert all(DNS_LABEL.match(name) and len(name) <= 63 for name in names.values())


def test_the_validators_refuse_broken_documents() -> None:
    argo = argo_workflow(diamond.build(), {}, IMAGE)
    validate_argo(argo)
    misspelt = copy.deepcopy(argo)
    misspelt["spec"]["templates"][1]["contianer"] = misspelt["spec"]["templates"][1].pop(
        "container"
    )
    with pytest.raises(ValueError, match=r"templates\[1\]\.contianer"):
        validate_argo(misspelt)
    wrong_type = copy.deepcopy(argo)
    wrong_type["spec"]["templates"][0]["dag"]["tasks"][1]["dependencies"] = "numbers"
    with pytest.raises(ValueError, match="valid list"):
        validate_argo(wrong_type)
    unknown_producer = copy.deepcopy(argo)
    unknown_producer["spec"]["templates"][0]["dag"]["tasks"][3]["dependencies"] = ["left"]
    with pytest.raises(AssertionError, match="right"):
        validate_argo(unknown_producer)

    kfp = kfp_pipeline(diamond.build(), {}, IMAGE)
    validate_kfp(kfp)
    unknown = copy.deepcopy(kfp)
    unknown["root"]["dag"]["tasks"]["left"]["retryPolicy"]["maxRetries"] = 3
    with pytest.raises(json_format.ParseError, match="maxRetries"):
        validate_kfp(unknown)
    in_deployment = copy.deepcopy(kfp)
    in_deployment["deploymentSpec"]["executors"]["exec-left"]["container"]["cpu"] = "1"
    with pytest.raises(json_format.ParseError, match="cpu"):
        validate_kfp(in_deployment)
    wrong_type = copy.deepcopy(kfp)
    wrong_type["root"]["dag"]["tasks"]["left"]["dependentTasks"] = "numbers"
    with pytest.raises(json_format.ParseError):
        validate_kfp(wrong_type)


@pytest.mark.parametrize("target", ["argo", "kfp"])
def test_compile_pipeline_writes_yaml(target: str) -> None:
    spec = diamond.build()
    text = compile_pipeline(spec, target, image=IMAGE, params={"label": "yes: no"})
    document = yaml.safe_load(text)
    if target == "argo":
        validate_argo(document)
        assert document == argo_workflow(spec, {"label": "yes: no"}, IMAGE)
    else:
        validate_kfp(document)
        assert document == kfp_pipeline(spec, {"label": "yes: no"}, IMAGE)


def test_bad_requests_are_refused_with_a_clear_error() -> None:
    spec = diamond.build()
    with pytest.raises(InvalidInput, match="unknown target 'airflow'"):
        compile_pipeline(spec, "airflow", image=IMAGE, params={})
    with pytest.raises(InvalidInput, match="no parameter 'epochs'"):
        compile_pipeline(spec, "argo", image=IMAGE, params={"epochs": 3})
    with pytest.raises(InvalidInput, match="'n' is int"):
        compile_pipeline(spec, "kfp", image=IMAGE, params={"n": "three"})
    with pytest.raises(InvalidInput, match="image"):
        compile_pipeline(spec, "argo", image="bad image", params={})
    in_main = replace(spec, function="__main__:diamond")
    with pytest.raises(InvalidInput, match="importable module"):
        compile_pipeline(in_main, "kfp", image=IMAGE, params={})
