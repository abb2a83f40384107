"""Kubernetes manifests for a deployment: a Deployment, a Service and an autoscaler.

Every pod runs ``gnomon serve --deployment NAME`` against the tracking server, so the pods
follow the deployment's routing (canary, shadow, promotions) without new manifests. The
manifests are plain dicts, dumped as one multi-document YAML file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

from gnomon._version import __version__
from gnomon.errors import InvalidInput
from gnomon.serving.image import HOME_DIR, UID

SERVICE_PORT = 80

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")  # Service names: RFC 1035
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")  # Secret names
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


def manifests(options: ManifestOptions) -> list[dict[str, Any]]:
    """The Deployment, Service and HorizontalPodAutoscaler (autoscaling/v2) for ``options``.

    Raises:
        InvalidInput: an option Kubernetes would refuse, or a server URI carrying credentials.
    """
    check_options(options)
    name = resource_name(options.deployment)
    labels = _labels(options.deployment, name)
    return [
        _resource("apps/v1", "Deployment", name, labels, options, _deployment_spec(options, name)),
        _resource("v1", "Service", name, labels, options, _service_spec(labels)),
        _resource(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            name,
            labels,
            options,
            _hpa_spec(options, name),
        ),
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
    options: ManifestOptions,
    spec: dict[str, Any],
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if options.namespace:
        metadata["namespace"] = options.namespace
    metadata["labels"] = dict(labels)
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}


def _selector(labels: dict[str, str]) -> dict[str, str]:
    # A Deployment's selector is immutable: only the labels that never change.
    return {key: labels[key] for key in ("app.kubernetes.io/name", "gnomon.dev/deployment")}


def _deployment_spec(options: ManifestOptions, name: str) -> dict[str, Any]:
    labels = _labels(options.deployment, name)
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
        "spec": _pod_spec(options, labels),
    }
    return spec


def _pod_spec(options: ManifestOptions, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "fsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "terminationGracePeriodSeconds": 30,  # serve drains and writes queued records first
        "containers": [_container(options)],
        # GNOMON_HOME on an emptyDir: any image's own home may not be writable by this UID.
        "volumes": [{"name": "gnomon-home", "emptyDir": {}}],
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": _selector(labels)},
            }
        ],
    }


def _container(options: ManifestOptions) -> dict[str, Any]:
    command = ["gnomon", "serve", "--deployment", options.deployment]
    command += ["--host", "0.0.0.0", "--port", str(options.port)]
    return {
        "name": "server",
        "image": options.image,
        "command": command,
        "ports": [{"name": "http", "containerPort": options.port, "protocol": "TCP"}],
        "env": _env(options),
        "resources": _resources(options),
        # Loading a large model takes a while: liveness starts only once startup has passed.
        "startupProbe": _probe("/healthz", period=5, failures=60),
        "readinessProbe": _probe("/readyz", period=5, failures=3),
        "livenessProbe": _probe("/healthz", period=10, failures=3),
        "volumeMounts": [{"name": "gnomon-home", "mountPath": HOME_DIR}],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def _env(options: ManifestOptions) -> list[dict[str, Any]]:
    token = {"secretKeyRef": {"name": options.token_secret, "key": options.token_key}}
    return [
        {"name": "GNOMON_URI", "value": options.server_uri},
        {"name": "GNOMON_WORKSPACE", "value": options.workspace},
        {"name": "GNOMON_TOKEN", "valueFrom": token},
        {"name": "GNOMON_HOME", "value": HOME_DIR},
        *([{"name": "GNOMON_ARTIFACTS", "value": options.artifacts}] if options.artifacts else []),
    ]


def _resources(options: ManifestOptions) -> dict[str, Any]:
    limits = {"cpu": options.cpu_limit, "memory": options.memory_limit}
    resources: dict[str, Any] = {
        "requests": {"cpu": options.cpu_request, "memory": options.memory_request}
    }
    if any(limits.values()):
        resources["limits"] = {key: value for key, value in limits.items() if value}
    return resources


def _probe(path: str, *, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


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


__all__ = ["ManifestOptions", "check_options", "dump", "manifests", "resource_name"]
