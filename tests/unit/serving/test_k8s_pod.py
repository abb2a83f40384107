"""The model-server pod: a read-only root, no API token unless a cloud identity needs one,
S3 settings from a Secret, and a shutdown that outlasts the endpoint removal and the drain;
and the restricted-profile checker those tests rely on, shown to catch what it must."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from gnomon.serving import cli as serve_cli
from gnomon.serving.drain import DRAIN_S, SHUTDOWN_S
from gnomon.serving.image_dockerfile import HOME_DIR
from gnomon.serving.k8s import ManifestOptions, manifests
from gnomon.serving.k8s_pod import GRACE_S, PRESTOP_S
from tests.fixtures.kubernetes import restricted_violations

OPTIONS = ManifestOptions("churn-api", "http://gnomon.mlops.svc:5000", artifacts="s3://ml/g")


def pod(options: ManifestOptions = OPTIONS) -> dict[str, Any]:
    deployment = next(d for d in manifests(options) if d["kind"] == "Deployment")
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def env(options: ManifestOptions) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in pod(options)["containers"][0]["env"]}


def test_the_root_filesystem_is_read_only_and_gnomon_writes_to_empty_dirs() -> None:
    spec = pod()
    server = spec["containers"][0]
    assert server["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m["name"] for m in server["volumeMounts"]}
    assert mounts == {HOME_DIR: "gnomon-home", "/tmp": "tmp"}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes == {"gnomon-home": {"name": "gnomon-home", "emptyDir": {}},
                       "tmp": {"name": "tmp", "emptyDir": {}}}  # fmt: skip
    assert {"name": "GNOMON_HOME", "value": HOME_DIR} in server["env"]


def test_no_service_account_token_unless_an_account_is_named() -> None:
    assert pod()["automountServiceAccountToken"] is False
    assert "serviceAccountName" not in pod()
    irsa = pod(replace(OPTIONS, service_account="gnomon-models"))
    assert irsa["serviceAccountName"] == "gnomon-models"
    # The cloud's identity webhook reads the account's token to hand out S3 credentials.
    assert irsa["automountServiceAccountToken"] is True


def test_s3_settings_come_from_the_secret_never_the_manifest() -> None:
    found = env(replace(OPTIONS, s3_secret="gnomon-s3"))
    refs = {name: e["valueFrom"]["secretKeyRef"] for name, e in found.items() if "valueFrom" in e}
    assert refs["AWS_ACCESS_KEY_ID"] == {
        "name": "gnomon-s3", "key": "AWS_ACCESS_KEY_ID", "optional": False,
    }  # fmt: skip
    assert refs["AWS_SECRET_ACCESS_KEY"]["optional"] is False
    # botocore reads AWS_DEFAULT_REGION; both come from the one key.
    assert refs["AWS_REGION"]["key"] == refs["AWS_DEFAULT_REGION"]["key"] == "AWS_REGION"
    assert refs["AWS_REGION"]["optional"] is True  # AWS itself: the region may be elsewhere
    assert refs["GNOMON_S3_ENDPOINT_URL"]["optional"] is True  # only MinIO and the like
    assert all("value" not in found[name] for name in refs)
    assert not any(name.startswith("AWS_") for name in env(OPTIONS))


def test_a_service_account_may_bring_the_keys_the_secret_then_need_not_hold() -> None:
    found = env(replace(OPTIONS, s3_secret="s3-endpoint", service_account="irsa"))
    assert found["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"]["optional"] is True
    assert found["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["optional"] is True


def test_the_pod_leaves_the_endpoints_before_it_drains_and_has_time_to_write() -> None:
    spec = pod()
    pre_stop = spec["containers"][0]["lifecycle"]["preStop"]
    assert pre_stop == {"exec": {"command": ["sleep", str(PRESTOP_S)]}}
    # The grace period counts from the preStop hook: it must cover the sleep, the server's
    # drain and uvicorn's shutdown, with time left to write the queued records.
    assert spec["terminationGracePeriodSeconds"] == GRACE_S
    assert GRACE_S >= PRESTOP_S + DRAIN_S + SHUTDOWN_S + 10
    # `gnomon serve` gives uvicorn the very constant the grace period counts.
    assert '"timeout_graceful_shutdown": SHUTDOWN_S,' in inspect.getsource(serve_cli)
    assert "from gnomon.serving.drain import SHUTDOWN_S" in inspect.getsource(serve_cli)


def _root(p: dict[str, Any]) -> None:
    p["securityContext"]["runAsUser"] = 0


def _escalation(p: dict[str, Any]) -> None:
    p["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True


def _no_drop(p: dict[str, Any]) -> None:
    del p["containers"][0]["securityContext"]["capabilities"]


def _added_capability(p: dict[str, Any]) -> None:
    p["containers"][0]["securityContext"]["capabilities"]["add"] = ["SYS_ADMIN"]


def _host_path(p: dict[str, Any]) -> None:
    p["volumes"].append({"name": "host", "hostPath": {"path": "/var/run"}})


def _host_network(p: dict[str, Any]) -> None:
    p["hostNetwork"] = True


def _unconfined(p: dict[str, Any]) -> None:
    p["securityContext"]["seccompProfile"] = {"type": "Unconfined"}


def _no_seccomp(p: dict[str, Any]) -> None:
    del p["securityContext"]["seccompProfile"]


def _may_run_as_root(p: dict[str, Any]) -> None:
    del p["securityContext"]["runAsNonRoot"]


def _privileged_init(p: dict[str, Any]) -> None:
    init = copy.deepcopy(p["containers"][0])
    init["name"] = "init"
    init["securityContext"]["privileged"] = True
    p["initContainers"] = [init]


def _host_port(p: dict[str, Any]) -> None:
    p["containers"][0]["ports"][0]["hostPort"] = 8080


@pytest.mark.parametrize(
    "break_it",
    [_root, _escalation, _no_drop, _added_capability, _host_path, _host_network,
     _unconfined, _no_seccomp, _may_run_as_root, _privileged_init, _host_port],
)  # fmt: skip
def test_the_restricted_profile_check_catches_what_it_forbids(
    break_it: Callable[[dict[str, Any]], None],
) -> None:
    assert restricted_violations(pod()) == []
    broken = copy.deepcopy(pod())
    break_it(broken)
    assert restricted_violations(broken) != []
