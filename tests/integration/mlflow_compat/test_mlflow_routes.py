"""MLflow's routes on the edges a client does not take: sealed and registered logged models,
values that must be refused, MLflow's own search terms, and the audit log."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.server import LiveServer, Tenant, add_tenant

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture(scope="module")
def tenant(auth_server: LiveServer) -> Tenant:
    return add_tenant(auth_server, "mlflow-routes")


@pytest.fixture
def http(auth_server: LiveServer, tenant: Tenant) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {tenant.token}", "X-MLflow-Workspace": tenant.workspace}
    with httpx.Client(base_url=auth_server.url, headers=headers) as client:
        yield client


def _ready_model(http: httpx.Client, experiment: str) -> tuple[str, str, str]:
    """A run and a READY logged model of it with an MLmodel file: (run id, model id, files)."""
    run = http.post(f"{API}/runs/create", json={"experiment_id": experiment}).json()
    run_id = run["run"]["info"]["run_id"]
    body = {"experiment_id": experiment, "name": "model", "source_run_id": run_id}
    info = http.post(f"{API}/logged-models", json=body).json()["model"]["info"]
    files = info["artifact_uri"].removeprefix("mlflow-artifacts:")
    assert http.put(f"{ARTIFACTS}{files}/MLmodel", content=b"flavors: {}\n").status_code == 200
    ready = http.patch(
        f"{API}/logged-models/{info['model_id']}", json={"status": "LOGGED_MODEL_READY"}
    )
    assert ready.json()["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    return run_id, info["model_id"], files


def test_registered_logged_model_is_sealed_and_kept(http: httpx.Client) -> None:
    experiment = http.post(f"{API}/experiments/create", json={"name": "sealed"}).json()
    run_id, model_id, files = _ready_model(http, experiment["experiment_id"])

    late = http.put(f"{ARTIFACTS}{files}/weights.bin", content=b"swap")
    assert late.status_code == 409 and late.json()["error_code"] == "INVALID_STATE"

    http.post(f"{API}/registered-models/create", json={"name": "sealed-model"})
    version = {"name": "sealed-model", "source": f"models:/{model_id}", "run_id": run_id}
    created = http.post(f"{API}/model-versions/create", json=version).json()["model_version"]
    assert created["version"] == "1" and created["model_id"] == model_id
    kept = http.delete(f"{API}/logged-models/{model_id}")
    assert kept.status_code == 409 and "version 1 of 'sealed-model'" in kept.json()["message"]
    assert http.get(f"{ARTIFACTS}{files}/MLmodel").content == b"flavors: {}\n"

    # MLflow's client asks for 10,000 versions and leaves prompts out of model searches.
    versions = http.get(
        f"{API}/model-versions/search",
        params={"filter": "name = 'sealed-model'", "max_results": 10_000},
    )
    assert [v["version"] for v in versions.json()["model_versions"]] == ["1"]
    found = http.get(
        f"{API}/registered-models/search",
        params={"filter": "name = 'sealed-model' AND tag.`mlflow.prompt.is_prompt` != 'true'"},
    )
    assert [m["name"] for m in found.json()["registered_models"]] == ["sealed-model"]

    http.post(
        f"{API}/registered-models/alias",
        json={"name": "sealed-model", "alias": "champion", "version": "1"},
    )
    events = http.get("/api/v1/audit").json()["items"]
    trail = {(e["action"], e["object_type"], e["object_id"]) for e in events}
    assert ("create", "mlflow_logged_model", model_id) in trail
    assert ("create", "model_version", "sealed-model/1") in trail
    assert ("update", "model_alias", "sealed-model@champion") in trail


@pytest.mark.parametrize("version", ["²", "0", "-1", "1e3", "01", "9999999999", " 1"])
def test_a_version_that_is_not_a_plain_number_is_refused(http: httpx.Client, version: str) -> None:
    answer = http.get(f"{API}/model-versions/get", params={"name": "any", "version": version})
    assert answer.status_code in (400, 422)
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_refused_writes(http: httpx.Client) -> None:
    experiment = http.post(f"{API}/experiments/create", json={"name": "refusals"}).json()
    run = http.post(f"{API}/runs/create", json=experiment).json()["run"]["info"]
    moved = http.post(
        f"{API}/runs/set-tag",
        json={"run_id": run["run_id"], "key": "mlflow.parentRunId", "value": "0" * 32},
    )
    assert moved.status_code in (400, 422) and "parent" in moved.json()["message"]
    http.post(f"{API}/experiments/delete", json=experiment)
    body = {"experiment_id": experiment["experiment_id"], "name": "late"}
    late = http.post(f"{API}/logged-models", json=body)
    assert late.status_code == 409 and "deleted" in late.json()["message"]
