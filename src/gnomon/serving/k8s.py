"""Kubernetes manifests for a deployment: a Deployment, a Service, an autoscaler and a
PodDisruptionBudget.

Every pod runs ``gnomon serve --deployment NAME`` against the tracking server, so the pods
follow the deployment's routing (canary, shadow, promotions) without new manifests. The
manifests are plain dicts, dumped as one multi-document YAML file. The pods pass the
restricted Pod Security Standard: non-root, no privilege escalation, every capability
dropped, a read-only root filesystem with writable ``emptyDir`` volumes where gnomon writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

from gnomon._version import __version__
from gnomon.errors import InvalidInput
from gnomon.serving.k8s_pod import pod_spec

SERVICE_PORT = 80

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")  # Service names: RFC 1035
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")  # Secret, account names
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$")


@dataclass(frozen=True, slots=True)
class ManifestOptions:
    """What the manifests say. ``replicas`` None leaves the count to the autoscaler, so a
    re-applied Deployment does not reset the number of pods it chose."""

    deployment: str
    server_uri: str
    workspace: str = "default"
    image: str = f"gnomon:{__version__}"
    namespace: str | None = None
    replicas: int | None = None
    min_replicas: int = 2
    max_replicas: int = 10
    cpu_target: int = 70
    port: int = 8080
    token_secret: str = "gnomon-token"
    token_key: str = "token"
    cpu_request: str = "250m"
    memory_request: str = "512Mi"
    cpu_limit: str | None = None  # CPU limits throttle latency; the autoscaler uses requests
    memory_limit: str | None = "1Gi"
    # Where prediction records go (s3://bucket/prefix): pods' own disks do not outlive them.
    artifacts: str | None = None
    # False serves with --no-records: nothing is kept, so no artifact root is needed.
    records: bool = True
    # A Secret with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, GNOMON_S3_ENDPOINT_URL.
    s3_secret: str | None = None
    # A service account whose token the cloud exchanges for storage credentials (IRSA,
    # workload identity): its token is then mounted; without one, none is.
    service_account: str | None = None


def manifests(options: ManifestOptions) -> list[dict[str, Any]]:
    """The Deployment, Service, HorizontalPodAutoscaler (autoscaling/v2) and
    PodDisruptionBudget (policy/v1) for ``options``.

    Raises:
        InvalidInput: an option Kubernetes would refuse, a server URI carrying credentials,
            or prediction records that would be lost with the pod.
    """
    check_options(options)
    name = resource_name(options.deployment)
    labels = _labels(options.deployment, name)

    def resource(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
        return _resource(api_version, kind, name, labels, options.namespace, spec)

    return [
        resource("apps/v1", "Deployment", _deployment_spec(options, labels)),
        resource("v1", "Service", _service_spec(labels)),
        resource("autoscaling/v2", "HorizontalPodAutoscaler", _hpa_spec(options, name)),
        resource("policy/v1", "PodDisruptionBudget", _pdb_spec(labels)),
    ]


def dump(documents: list[dict[str, Any]]) -> str:
    """Multi-document YAML, in order, keys as written."""
    text: str = yaml.safe_dump_all(documents, sort_keys=False, explicit_start=True)
    return text


def resource_name(deployment: str) -> str:
    """The Kubernetes name of a gnomon deployment: lowercase letters, digits and ``-``,
    starting with a letter, at most 63 characters (``Churn API`` becomes ``churn-api``).

    Raises:
        InvalidInput: nothing usable is left of the name.
    """
    name = re.sub(r"[^a-z0-9]+", "-", deployment.lower()).strip("-")
    if name and not name[0].isalpha():
        name = f"gnomon-{name}"
    name = name[:63].rstrip("-")
    if not _DNS_LABEL.match(name):
        raise InvalidInput(f"deployment {deployment!r} gives no usable Kubernetes name")
    return name


def check_options(options: ManifestOptions) -> None:
    """Raise ``InvalidInput`` naming the first option Kubernetes would refuse."""
    _check_server_uri(options.server_uri)
    _check_records(options)
    if not 1 <= options.min_replicas <= options.max_replicas:
        raise InvalidInput(
            f"replicas: need 1 <= min ({options.min_replicas}) <= max ({options.max_replicas})"
        )
    replicas = options.replicas
    if replicas is not None and not options.min_replicas <= replicas <= options.max_replicas:
        raise InvalidInput(
            f"replicas {replicas} is outside the autoscaler's range "
            f"{options.min_replicas}..{options.max_replicas}"
        )
    if not 1 <= options.cpu_target <= 100:
        raise InvalidInput(
            f"cpu target must be a percentage from 1 to 100, got {options.cpu_target}"
        )
    if not 1 <= options.port <= 65535:
        raise InvalidInput(f"port must be from 1 to 65535, got {options.port}")
    if not options.image or any(c.isspace() for c in options.image):
        raise InvalidInput(f"image {options.image!r} is not an image reference")
    _check("namespace", options.namespace, _DNS_LABEL)
    _check("token secret name", options.token_secret, _SUBDOMAIN)
    _check("token secret key", options.token_key, _SECRET_KEY)
    _check("S3 secret name", options.s3_secret, _SUBDOMAIN)
    _check("service account name", options.service_account, _SUBDOMAIN)
    for field in ("cpu_request", "memory_request", "cpu_limit", "memory_limit"):
        _check(field.replace("_", " "), getattr(options, field), _QUANTITY)


def _check(what: str, value: str | None, pattern: re.Pattern[str]) -> None:
    if value is not None and not pattern.match(value):
        raise InvalidInput(f"{what} {value!r} is not valid in Kubernetes")


def _check_server_uri(uri: str) -> None:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"server URI {uri!r} must be the tracking server's http(s):// address "
            "as the pods reach it"
        )
    if parts.username or parts.password:
        # Manifests end up in git; the token travels in the Secret only.
        raise InvalidInput(
            "the server URI must not carry credentials: the token comes from the Secret"
        )


def _check_records(options: ManifestOptions) -> None:
    # The root filesystem is read-only and GNOMON_HOME an emptyDir: records kept anywhere
    # but shared storage vanish with the pod, and the monitors would never read them.
    artifacts = options.artifacts
    if artifacts is not None and not artifacts.startswith("s3://"):
        raise InvalidInput(
            f"artifacts {artifacts!r} must be s3://bucket/prefix: a path inside the pod is "
            "lost with it"
        )
    if options.records and artifacts is None:
        raise InvalidInput(
            "prediction records would live on the pod's temporary volume and be lost with "
            "it: give --artifacts s3://bucket/prefix (the tracking server's artifact root), "
            "or --no-records"
        )


def _labels(deployment: str, name: str) -> dict[str, str]:
    value = deployment if _LABEL_VALUE.match(deployment) else name
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": "model-server",
        "app.kubernetes.io/part-of": "gnomon",
        "gnomon.dev/deployment": value,
    }


def _resource(
    api_version: str,
    kind: str,
    name: str,
    labels: dict[str, str],
    namespace: str | None,
    spec: dict[str, Any],
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    metadata["labels"] = dict(labels)
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}


def _selector(labels: dict[str, str]) -> dict[str, str]:
    # A Deployment's selector is immutable: only the labels that never change.
    return {key: labels[key] for key in ("app.kubernetes.io/name", "gnomon.dev/deployment")}


def _deployment_spec(options: ManifestOptions, labels: dict[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if options.replicas is not None:
        spec["replicas"] = options.replicas
    spec["selector"] = {"matchLabels": _selector(labels)}
    # Never fewer ready pods than asked for while a new image rolls out.
    spec["strategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    spec["template"] = {
        "metadata": {
            "labels": labels,
            "annotations": {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(options.port),
                "prometheus.io/path": "/metrics",
            },
        },
        "spec": pod_spec(options, _selector(labels)),
    }
    return spec


def _service_spec(labels: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "ClusterIP",
        "selector": _selector(labels),
        "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}],
    }


def _hpa_spec(options: ManifestOptions, name: str) -> dict[str, Any]:
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
        "minReplicas": options.min_replicas,
        "maxReplicas": options.max_replicas,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": options.cpu_target},
                },
            }
        ],
    }


def _pdb_spec(labels: dict[str, str]) -> dict[str, Any]:
    return {
        # One pod at a time through a node drain, whatever the autoscaler chose; minAvailable
        # would block every drain of a deployment scaled down to that count.
        "maxUnavailable": 1,
        "selector": {"matchLabels": _selector(labels)},
        # A pod that never got ready serves nothing: evicting it must not wait on the budget.
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }


__all__ = ["ManifestOptions", "check_options", "dump", "manifests", "resource_name"]
