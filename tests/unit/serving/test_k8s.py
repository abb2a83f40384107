"""Kubernetes manifests: valid against the official OpenAPI schemas and the restricted pod
security profile, and what the pods need."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gnomon.errors import InvalidInput
from gnomon.serving.k8s import ManifestOptions, dump, manifests, resource_name
from tests.fixtures.kubernetes import VERSIONS, pod_spec, restricted_violations
from tests.fixtures.kubernetes import validate as validate_in

KINDS = ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"]
OPTIONS = ManifestOptions(
    "churn-api",
    "http://gnomon.mlops.svc:5000",
    workspace="team-a",
    artifacts="s3://ml-artifacts/gnomon",
)


def validate(document: dict[str, Any], version: str = VERSIONS[0]) -> None:
    validate_in(document, version)


def by_kind(options: ManifestOptions = OPTIONS) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in manifests(options)}


def container(options: ManifestOptions = OPTIONS) -> dict[str, Any]:
    deployment = by_kind(options)["Deployment"]
    result: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return result


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "options",
    [
        OPTIONS,
        replace(
            OPTIONS,
            namespace="ml",
            replicas=3,
            min_replicas=3,
            max_replicas=6,
            cpu_limit="2",
            memory_limit=None,
            port=9000,
            s3_secret="gnomon-s3",
            service_account="gnomon-models",
        ),
        replace(OPTIONS, artifacts=None, records=False),
    ],
    ids=["defaults", "every-option", "no-records"],
)
def test_every_manifest_validates(options: ManifestOptions, version: str) -> None:
    documents = manifests(options)
    assert [d["kind"] for d in documents] == KINDS
    for document in documents:
        validate(document, version)
    assert restricted_violations(by_kind(options)["Deployment"]["spec"]["template"]["spec"]) == []


def _drop_selector(d: dict[str, Any]) -> None:
    del d["spec"]["selector"]


def _drop_container_name(d: dict[str, Any]) -> None:
    del d["spec"]["template"]["spec"]["containers"][0]["name"]


def _port_as_text(d: dict[str, Any]) -> None:
    d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8080"


def _replicas_as_text(d: dict[str, Any]) -> None:
    d["spec"]["replicas"] = "2"


def _misspelled_field(d: dict[str, Any]) -> None:
    d["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}


@pytest.mark.parametrize(
    "break_it",
    [_drop_selector, _drop_container_name, _port_as_text, _replicas_as_text, _misspelled_field],
)
def test_the_schema_check_catches_a_broken_deployment(
    break_it: Callable[[dict[str, Any]], None],
) -> None:
    broken = copy.deepcopy(by_kind()["Deployment"])
    break_it(broken)
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(broken)


def test_the_schema_check_catches_a_broken_autoscaler_and_service() -> None:
    hpa = copy.deepcopy(by_kind()["HorizontalPodAutoscaler"])
    del hpa["spec"]["maxReplicas"]
    with pytest.raises(kubernetes_validate.ValidationError, match="maxReplicas"):
        validate(hpa)
    service = copy.deepcopy(by_kind()["Service"])
    service["spec"]["ports"][0]["port"] = "http"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(service)


def test_the_pods_serve_the_deployment_with_the_token_from_the_secret() -> None:
    server = container()
    assert "command" not in server  # the image's init (tini) stays PID 1
    assert server["args"] == [
        "gnomon", "serve", "--deployment", "churn-api", "--host", "0.0.0.0", "--port", "8080",
    ]  # fmt: skip
    env = {e["name"]: e for e in server["env"]}
    assert env["GNOMON_URI"]["value"] == "http://gnomon.mlops.svc:5000"
    assert env["GNOMON_WORKSPACE"]["value"] == "team-a"
    assert "value" not in env["GNOMON_TOKEN"]
    assert env["GNOMON_TOKEN"]["valueFrom"] == {
        "secretKeyRef": {"name": "gnomon-token", "key": "token"}
    }
    assert server["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert server["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert server["resources"]["requests"] == {"cpu": "250m", "memory": "512Mi"}


def test_security_labels_and_scrape_annotations() -> None:
    deployment = by_kind()["Deployment"]
    template = deployment["spec"]["template"]
    assert template["spec"]["securityContext"]["runAsNonRoot"] is True
    assert template["spec"]["securityContext"]["runAsUser"] == 10001
    assert template["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8080",
        "prometheus.io/path": "/metrics",
    }
    for document in manifests(OPTIONS):
        labels = document["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "churn-api"
        assert labels["app.kubernetes.io/part-of"] == "gnomon"
        assert labels["gnomon.dev/deployment"] == "churn-api"
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= template["metadata"]["labels"].items()
    assert by_kind()["Service"]["spec"]["selector"] == selector


def test_the_autoscaler_targets_the_deployment() -> None:
    hpa = by_kind(replace(OPTIONS, min_replicas=1, max_replicas=4, cpu_target=55))
    spec = hpa["HorizontalPodAutoscaler"]["spec"]
    assert hpa["HorizontalPodAutoscaler"]["apiVersion"] == "autoscaling/v2"
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "churn-api",
    }
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 4)
    assert spec["metrics"][0]["resource"]["target"]["averageUtilization"] == 55
    # Without --replicas the autoscaler owns the count: re-applying must not reset it.
    assert "replicas" not in by_kind()["Deployment"]["spec"]


def test_dump_is_multi_document_yaml_that_reads_back() -> None:
    text = dump(manifests(OPTIONS))
    assert text.count("---\n") == 4
    assert list(yaml.safe_load_all(text)) == manifests(OPTIONS)


def test_names_kubernetes_would_refuse_are_made_valid() -> None:
    assert resource_name("Churn API") == "churn-api"
    assert resource_name("2024_model") == "gnomon-2024-model"
    assert len(resource_name("x" * 100)) == 63
    documents = manifests(replace(OPTIONS, deployment="Churn API"))
    assert documents[0]["metadata"]["name"] == "churn-api"
    assert documents[0]["metadata"]["labels"]["gnomon.dev/deployment"] == "churn-api"
    # The pods still ask for the deployment by its real name.
    assert container(replace(OPTIONS, deployment="Churn API"))["args"][3] == "Churn API"
    with pytest.raises(InvalidInput):
        resource_name("___")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"server_uri": "sqlite:///x.db"}, "http"),
        ({"server_uri": "https://user:pw@gnomon.example"}, "credentials"),
        ({"min_replicas": 5, "max_replicas": 2}, "min"),
        ({"replicas": 20}, "outside"),
        ({"cpu_target": 0}, "percentage"),
        ({"namespace": "Bad_NS"}, "namespace"),
        ({"token_secret": "Not A Name"}, "secret"),
        ({"memory_request": "512MB"}, "memory request"),
        ({"image": "my image"}, "image"),
    ],
)
def test_options_kubernetes_would_refuse(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        manifests(replace(OPTIONS, **changes))


def test_records_storage_reaches_the_pods_when_given() -> None:
    from gnomon.serving.k8s import ManifestOptions, manifests

    options = ManifestOptions("churn-api", "https://gnomon.example", artifacts="s3://ml/records")
    deployment = next(m for m in manifests(options) if m["kind"] == "Deployment")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "GNOMON_ARTIFACTS", "value": "s3://ml/records"} in env


def test_records_without_shared_storage_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"temporary volume.*--artifacts s3://.*--no-records"):
        manifests(replace(OPTIONS, artifacts=None))
    with pytest.raises(InvalidInput, match="'/var/lib/gnomon/artifacts' must be s3://"):
        manifests(replace(OPTIONS, artifacts="/var/lib/gnomon/artifacts"))
    # Records off: nothing to keep, so no storage is needed and the pods are told so.
    kept_nowhere = replace(OPTIONS, artifacts=None, records=False)
    assert container(kept_nowhere)["args"][-1] == "--no-records"
    assert "GNOMON_ARTIFACTS" not in {e["name"] for e in container(kept_nowhere)["env"]}
    assert "--no-records" not in container()["args"]


def test_a_disruption_budget_lets_one_pod_go_at_a_time() -> None:
    documents = by_kind()
    budget = documents["PodDisruptionBudget"]
    assert budget["apiVersion"] == "policy/v1"
    assert budget["spec"]["maxUnavailable"] == 1
    assert "minAvailable" not in budget["spec"]  # would block drains at the autoscaler's floor
    assert budget["spec"]["selector"] == documents["Deployment"]["spec"]["selector"]
    assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"s3_secret": "S3 Keys"}, "S3 secret"),
        ({"service_account": "under_score"}, "service account"),
    ],
)
def test_secret_and_account_names_kubernetes_would_refuse(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        manifests(replace(OPTIONS, **changes))


def test_the_restricted_profile_holds_for_the_pods_of_every_workload() -> None:
    for document in manifests(replace(OPTIONS, service_account="irsa", s3_secret="s3")):
        spec = pod_spec(document)
        assert (spec is None) == (document["kind"] != "Deployment")
        if spec is not None:
            assert restricted_violations(spec) == []
