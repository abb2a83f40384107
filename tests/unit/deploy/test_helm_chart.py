"""deploy/helm/gnomon: values that match their schema, templates that read only values that
exist and call only the documented functions, and, where `helm` is installed, rendered
objects that pass the Kubernetes 1.28-1.33 schemas and the restricted pod security profile."""

from __future__ import annotations

import copy
import subprocess
from typing import Any

import jsonschema
import pytest

from gnomon._version import __version__
from gnomon.serving.k8s_pod import GRACE_S, PRESTOP_S
from tests import helm_binary
from tests.fixtures.kubernetes import VERSIONS, pod_spec, restricted_violations, validate
from tests.unit.deploy.helm import (
    CHART,
    FUNCTIONS,
    actions,
    functions,
    has_path,
    helm_template,
    load,
    merged,
    templates,
    unbalanced,
    values_paths,
)

FULL = CHART / "ci" / "full-values.yaml"
needs_helm = pytest.mark.skipif(
    helm_binary.found() is None,
    reason="helm is missing (python -m tests.helm_binary installs it)",
)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    import json

    loaded: dict[str, Any] = json.loads((CHART / "values.schema.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def defaults() -> dict[str, Any]:
    return load(CHART / "values.yaml")


def test_the_chart_installs_this_gnomon_on_supported_kubernetes() -> None:
    chart = load(CHART / "Chart.yaml")
    assert chart["apiVersion"] == "v2" and chart["name"] == "gnomon"
    assert chart["appVersion"] == __version__
    assert chart["kubeVersion"] == ">=1.28.0-0"


def test_the_default_and_the_full_values_match_the_schema(
    schema: dict[str, Any], defaults: dict[str, Any]
) -> None:
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(defaults, schema, cls=jsonschema.Draft7Validator)
    full = merged(defaults, load(FULL))
    jsonschema.validate(full, schema, cls=jsonschema.Draft7Validator)
    assert len(full["models"]) == 2  # the example exercises the per-model overrides


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("database", "password"), "hunter2"),  # a password as a value: not a key we read
        (("artifacts", "uri"), "/var/lib/gnomon/artifacts"),  # lost with the pod
        (("server", "replicas"), 0),
        (("serverr",), {}),  # a misspelt key
        (("models",), [{"name": "Churn API"}]),
        (("models",), [{"name": "churn", "deployment": "has spaces"}]),
        (("modelServing", "records"), "yes"),
        (("image", "pullPolicy"), "Sometimes"),
    ],
)
def test_the_schema_refuses_what_the_chart_cannot_use(
    schema: dict[str, Any], defaults: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    values = copy.deepcopy(defaults)
    target = values
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(values, schema, cls=jsonschema.Draft7Validator)


def test_every_value_a_template_reads_is_in_values_yaml(defaults: dict[str, Any]) -> None:
    read = {path for text in templates().values() for path in values_paths(text)}
    assert ("artifacts", "uri") in read and ("models",) in read  # the scan finds them
    missing = sorted(".".join(path) for path in read if not has_path(defaults, path))
    assert missing == []


def test_every_field_of_a_model_entry_the_template_reads_is_in_the_schema(
    schema: dict[str, Any],
) -> None:
    import re

    used = set(re.findall(r"\$model\.(\w+)", templates()["models.yaml"]))
    assert {"name", "deployment", "image", "records"} <= used
    assert used <= schema["properties"]["models"]["items"]["properties"].keys()


def test_templates_call_only_the_documented_functions_and_nest_their_blocks() -> None:
    used: set[str] = set()
    for name, text in templates().items():
        assert unbalanced(text) is None, name
        for code in actions(text):
            used |= functions(code)
    assert used - FUNCTIONS == set()
    readme = (CHART.parent / "README.md").read_text()
    assert [f for f in sorted(FUNCTIONS) if f"`{f}`" not in readme] == []


def test_the_scans_catch_an_unknown_function_a_missing_value_and_a_missing_end(
    defaults: dict[str, Any],
) -> None:
    assert functions('lookup "v1" "Secret" .Release.Namespace "x" | b64dec') == {
        "lookup",
        "b64dec",
    }
    assert functions('include "gnomon.image" $ | quote') == {"include", "quote"}
    assert values_paths("{{ $.Values.server.replica }}") == {("server", "replica")}
    assert not has_path(defaults, ("server", "replica"))
    assert unbalanced("{{ if .Values.worker.enabled }}x") == "1 block(s) never ended"
    assert unbalanced("{{ end }}") == "an end without a block"


def test_model_servers_shut_down_as_gnomon_k8s_manifests_does() -> None:
    models = templates()["models.yaml"]
    assert f"terminationGracePeriodSeconds: {GRACE_S}\n" in models
    assert f'command: ["sleep", "{PRESTOP_S}"]' in models
    assert "readOnlyRootFilesystem: true" in templates()["_helpers.tpl"]


def _rendered(version: str, *values: Any) -> list[dict[str, Any]]:
    try:
        return helm_template(version, *values)
    except subprocess.CalledProcessError as error:  # helm's own message, not a traceback
        pytest.fail(f"helm template failed: {error.stderr}")


@needs_helm
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("full", [False, True], ids=["defaults", "full-values"])
def test_the_rendered_chart_is_valid_and_restricted(version: str, full: bool) -> None:
    documents = _rendered(version, *([FULL] if full else []))
    kinds = sorted(d["kind"] for d in documents)
    models = 2 if full else 0
    assert kinds.count("Deployment") == 2 + models  # server, worker, one per model
    assert kinds.count("PodDisruptionBudget") == 1 + models
    assert kinds.count("Job") == 1
    for document in documents:
        validate(document, version)
        spec = pod_spec(document)
        if spec is not None:
            assert restricted_violations(spec) == [], document["metadata"]["name"]


@needs_helm
def test_the_rendered_pods_run_gnomon_with_secrets_by_reference() -> None:
    documents = {(d["kind"], d["metadata"]["name"]): d for d in _rendered(VERSIONS[0], FULL)}
    job = documents[("Job", "ml-gnomon-migrations")]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    migrations = pod_spec(job)
    assert migrations is not None
    assert migrations["containers"][0]["args"] == ["gnomon", "db", "upgrade"]
    fraud = pod_spec(documents[("Deployment", "ml-gnomon-fraud")])
    assert fraud is not None
    server = fraud["containers"][0]
    assert server["args"][:4] == ["gnomon", "serve", "--deployment", "Fraud_Scoring.v2"]
    assert server["args"][-1] == "--no-records"
    assert fraud["automountServiceAccountToken"] is True  # full values name an account
    env = {e["name"]: e for e in server["env"]}
    assert env["GNOMON_URI"]["value"] == "http://ml-gnomon-server:80"
    assert env["GNOMON_WORKSPACE"]["value"] == "risk"
    for document in documents.values():
        for spec in filter(None, [pod_spec(document)]):
            for container in spec["containers"]:
                assert all("value" not in e for e in container["env"] if "PASSWORD" in e["name"])


@needs_helm
def test_helm_lint_is_clean() -> None:
    helm = helm_binary.found()
    assert helm is not None
    for values in ([], ["-f", str(FULL)]):
        result = subprocess.run(
            [helm, "lint", "--strict", "--kube-version", VERSIONS[0], str(CHART), *values],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
