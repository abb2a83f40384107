"""The model-server pod of ``gnomon k8s manifests``: its security, volumes, environment,
probes and the timing of its shutdown.

A pod being replaced leaves its Service's endpoints while it still runs: kube-proxy and
ingress controllers learn of it a few seconds later and keep sending new connections until
then. So the pod first waits ``PRESTOP_S`` serving as usual; then SIGTERM starts the server's
own drain (``DRAIN_S`` of ``Connection: close`` answers, serving/drain.py), then uvicorn's
graceful shutdown (``SHUTDOWN_S`` for requests in flight), then the queued prediction records
are written. ``GRACE_S`` covers all of it, so the kubelet never kills a pod mid-write.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gnomon.serving.drain import DRAIN_S, SHUTDOWN_S
from gnomon.serving.image_dockerfile import HOME_DIR, UID

if TYPE_CHECKING:
    from gnomon.serving.k8s import ManifestOptions

PRESTOP_S = 5  # endpoint removal reaching kube-proxy and ingress controllers
RECORDS_FLUSH_S = 15  # writing the records still queued to S3
GRACE_S = math.ceil(PRESTOP_S + DRAIN_S + SHUTDOWN_S) + RECORDS_FLUSH_S
TMP_DIR = "/tmp"

# The keys --s3-secret names, and the variables each becomes: botocore reads the region
# from AWS_DEFAULT_REGION, other SDKs from AWS_REGION.
S3_SECRET_KEYS = {
    "AWS_ACCESS_KEY_ID": ("AWS_ACCESS_KEY_ID",),
    "AWS_SECRET_ACCESS_KEY": ("AWS_SECRET_ACCESS_KEY",),
    "AWS_REGION": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "GNOMON_S3_ENDPOINT_URL": ("GNOMON_S3_ENDPOINT_URL",),
}
_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def pod_spec(options: ManifestOptions, selector: dict[str, str]) -> dict[str, Any]:
    """The pod template's spec for ``options``; ``selector`` spreads the pods over nodes."""
    spec: dict[str, Any] = {}
    if options.service_account:
        spec["serviceAccountName"] = options.service_account
    # Only a cloud's identity webhook needs the account's token (it exchanges it for
    # storage credentials); otherwise a token in the pod is an API credential for nothing.
    spec["automountServiceAccountToken"] = options.service_account is not None
    spec["securityContext"] = {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "fsGroup": UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    spec["terminationGracePeriodSeconds"] = GRACE_S
    spec["containers"] = [_container(options)]
    # The root filesystem is read-only: GNOMON_HOME (the user's home too) and /tmp are not.
    spec["volumes"] = [
        {"name": "gnomon-home", "emptyDir": {}},
        {"name": "tmp", "emptyDir": {}},
    ]
    spec["topologySpreadConstraints"] = [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector},
        }
    ]
    return spec


def _container(options: ManifestOptions) -> dict[str, Any]:
    args = ["gnomon", "serve", "--deployment", options.deployment]
    args += ["--host", "0.0.0.0", "--port", str(options.port)]
    if not options.records:
        args.append("--no-records")
    return {
        "name": "server",
        "image": options.image,
        # args, not command: the image's entrypoint (tini in gnomon's images) stays PID 1,
        # reaping worker processes; an image without one runs the args as they are.
        "args": args,
        "ports": [{"name": "http", "containerPort": options.port, "protocol": "TCP"}],
        "env": _env(options),
        "resources": _resources(options),
        # Loading a large model takes a while: liveness starts only once startup has passed.
        "startupProbe": _probe("/healthz", period=5, failures=60),
        "readinessProbe": _probe("/readyz", period=5, failures=3),
        "livenessProbe": _probe("/healthz", period=10, failures=3),
        # An exec sleep, not the `sleep` action: that needs Kubernetes 1.30.
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(PRESTOP_S)]}}},
        "volumeMounts": [
            {"name": "gnomon-home", "mountPath": HOME_DIR},
            {"name": "tmp", "mountPath": TMP_DIR},
        ],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def _env(options: ManifestOptions) -> list[dict[str, Any]]:
    token = {"secretKeyRef": {"name": options.token_secret, "key": options.token_key}}
    env: list[dict[str, Any]] = [
        {"name": "GNOMON_URI", "value": options.server_uri},
        {"name": "GNOMON_WORKSPACE", "value": options.workspace},
        {"name": "GNOMON_TOKEN", "valueFrom": token},
        {"name": "GNOMON_HOME", "value": HOME_DIR},
        # JSON lines on stderr, for a log shipper (deploy/elk/); request ids link them.
        {"name": "GNOMON_LOG_FORMAT", "value": "json"},
        {"name": "GNOMON_LOG_LEVEL", "value": "info"},
    ]
    if options.artifacts:
        env.append({"name": "GNOMON_ARTIFACTS", "value": options.artifacts})
    if options.s3_secret:
        env += s3_env(options.s3_secret, keys_optional=options.service_account is not None)
    return env


def s3_env(secret: str, *, keys_optional: bool) -> list[dict[str, Any]]:
    """Variables read from the S3 ``secret``. The region and the endpoint may be left out
    (AWS's own S3 needs no endpoint); the keys too when a service account brings them."""
    env: list[dict[str, Any]] = []
    for key, names in S3_SECRET_KEYS.items():
        optional = keys_optional or key not in _CREDENTIALS
        for name in names:  # a dict each: shared ones would dump as YAML anchors
            ref = {"name": secret, "key": key, "optional": optional}
            env.append({"name": name, "valueFrom": {"secretKeyRef": ref}})
    return env


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
