"""MLflow's own client (3.17.2, its own virtualenv) logging into a live gnomon server with
``MLFLOW_TRACKING_URI``, a gnomon token and ``MLFLOW_WORKSPACE``; gnomon's SDK reads it back."""

from __future__ import annotations

import json
import math
from pathlib import Path

import httpx

import gnomon
from gnomon.config import Settings
from tests.fixtures.mlflow_client import run_mlflow_script
from tests.fixtures.server import LiveServer, Tenant, add_tenant

TRACKING = """
import json, math, os, pathlib
import mlflow
from mlflow import MlflowClient

mlflow.set_experiment("from-mlflow")
folder = pathlib.Path("made"); (folder / "plots").mkdir(parents=True)
(folder / "notes.txt").write_text("hello from mlflow")
(folder / "plots" / "roc.csv").write_text("fpr,tpr\\n0,0\\n1,1\\n")
with mlflow.start_run(run_name="parent") as parent:
    mlflow.log_param("alpha", 0.5)
    mlflow.log_params({"model": "rf", "depth": 3})
    for step in range(5):
        mlflow.log_metric("loss", 1 / (step + 1), step=step)
    mlflow.log_metrics({"acc": 0.91, "odd": float("nan"), "big": float("inf")})
    mlflow.set_tag("team", "fraud")
    mlflow.log_artifact(str(folder / "notes.txt"))
    mlflow.log_artifacts(str(folder / "plots"), "plots")
    mlflow.log_dict({"layers": [3, 2]}, "config/model.json")
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_metric("acc", 0.95)
client = MlflowClient()
found = mlflow.search_runs(
    experiment_names=["from-mlflow"], filter_string="metrics.acc > 0.9",
    order_by=["metrics.acc DESC"],
)
top = client.search_runs(
    [parent.info.experiment_id], "tags.mlflow.runName = 'parent' and params.model = 'rf'"
)
history = client.get_metric_history(parent.info.run_id, "loss")
listed = sorted(a.path for a in client.list_artifacts(parent.info.run_id))
nested = sorted(a.path for a in client.list_artifacts(parent.info.run_id, "plots"))
local = client.download_artifacts(parent.info.run_id, "config/model.json", "downloaded")
got = client.get_run(parent.info.run_id)
try:
    client.get_run("0" * 32)
    missing = None
except mlflow.exceptions.MlflowException as exc:
    missing = exc.error_code
print(json.dumps({
    "parent": parent.info.run_id, "child": child.info.run_id,
    "experiment": parent.info.experiment_id,
    "searched": list(found["tags.mlflow.runName"]), "top": [r.info.run_id for r in top],
    "history": [[m.step, m.value] for m in history],
    "listed": listed, "nested": nested, "downloaded": json.load(open(local)),
    "status": got.info.status, "params": got.data.params, "odd": str(got.data.metrics["odd"]),
    "child_parent": client.get_run(child.info.run_id).data.tags.get("mlflow.parentRunId"),
    "missing": missing,
}))
"""


def _mlflow_env(server: LiveServer, tenant: Tenant) -> dict[str, str]:
    """What a user of MLflow sets to log into the tenant's workspace of ``server``."""
    return {
        "MLFLOW_TRACKING_URI": server.url,
        "MLFLOW_TRACKING_TOKEN": tenant.token,
        "MLFLOW_WORKSPACE": tenant.workspace,
    }


def test_mlflow_client_logs_into_gnomon(
    auth_server: LiveServer, mlflow_python: Path, tmp_path: Path
) -> None:
    tenant = add_tenant(auth_server, "mlflow-client")
    env = _mlflow_env(auth_server, tenant)
    out = json.loads(run_mlflow_script(mlflow_python, TRACKING, env, tmp_path).splitlines()[-1])
    assert out["searched"] == ["child", "parent"]
    assert out["top"] == [out["parent"]]
    assert out["history"] == [[s, 1 / (s + 1)] for s in range(5)]
    assert out["listed"] == ["config", "notes.txt", "plots"]
    assert out["nested"] == ["plots/roc.csv"]
    assert out["downloaded"] == {"layers": [3, 2]}
    assert out["status"] == "FINISHED" and out["odd"] == "nan"
    assert out["params"] == {"alpha": "0.5", "model": "rf", "depth": "3"}
    assert out["child_parent"] == out["parent"]
    assert out["missing"] == "RESOURCE_DOES_NOT_EXIST"

    # gnomon's SDK, in the tenant's workspace, sees what MLflow's client wrote.
    settings = Settings(uri=auth_server.url, token=tenant.token, workspace=tenant.workspace)
    client = gnomon.Client(settings=settings)
    parent = client.get_run(out["parent"])
    assert parent.name == "parent" and parent.experiment_id == out["experiment"]
    assert parent.params == {"alpha": "0.5", "model": "rf", "depth": "3"}
    assert parent.metrics["acc"] == 0.91 and parent.metrics["big"] == math.inf
    assert parent.tags["team"] == "fraud"
    assert client.get_run(out["child"]).parent_run_id == parent.id
    assert [m.step for m in client.get_metric_history(parent.id, "loss")] == list(range(5))
    local = client.download_artifacts(parent.id, "plots/roc.csv", tmp_path / "gnomon")
    assert local.read_text() == "fpr,tpr\n0,0\n1,1\n"


def test_mlflow_routes_answer_mlflow_errors(auth_server: LiveServer) -> None:
    tenant = add_tenant(auth_server, "mlflow-errors")
    api = f"{auth_server.url}/api/2.0/mlflow"
    anonymous = httpx.get(f"{api}/experiments/get-by-name", params={"experiment_name": "x"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error_code"] == "UNAUTHENTICATED"
    headers = {"Authorization": f"Bearer {tenant.token}", "X-MLflow-Workspace": tenant.workspace}
    with httpx.Client(base_url=api, headers=headers) as http:
        missing = http.get("/experiments/get-by-name", params={"experiment_name": "nope"})
        assert missing.status_code == 404
        assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        made = http.post("/experiments/create", json={"name": "e"}).json()["experiment_id"]
        again = http.post("/experiments/create", json={"name": "e"})
        assert again.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
        run = http.post("/runs/create", json={"experiment_id": made}).json()["run"]["info"]
        bad = http.post(
            "/runs/log-batch",
            json={"run_id": run["run_id"], "metrics": [{"key": "m", "value": "high"}]},
        )
        assert bad.status_code in (400, 422)
        assert bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        scheduled = http.post("/runs/update", json={"run_id": run["run_id"], "status": "SCHEDULED"})
        assert "SCHEDULED" in scheduled.json()["message"]
        other = add_tenant(auth_server, "mlflow-errors-other")
        foreign = httpx.get(
            f"{api}/runs/get",
            params={"run_id": run["run_id"]},
            headers={"Authorization": f"Bearer {other.token}"},
        )
        assert foreign.status_code in (403, 404)  # another workspace's run is not there


MODELS = """
import json
import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

mlflow.set_experiment("autolog")
mlflow.sklearn.autolog(log_datasets=False)
X, y = load_iris(return_X_y=True, as_frame=True)
with mlflow.start_run() as run:
    LogisticRegression(max_iter=300).fit(X, y)
model_uri = f"runs:/{run.info.run_id}/model"
version = mlflow.register_model(model_uri, "iris")
client = MlflowClient()
client.set_registered_model_alias("iris", "champion", version.version)
loaded = mlflow.pyfunc.load_model("models:/iris@champion")
predicted = loaded.predict(X.head(5))
direct = mlflow.sklearn.load_model(model_uri).predict(X.head(5))
print(json.dumps({
    "run": run.info.run_id, "version": version.version,
    "predicted": [int(p) for p in predicted], "direct": [int(p) for p in direct],
    "params": client.get_run(run.info.run_id).data.params,
    "alias_version": client.get_model_version_by_alias("iris", "champion").version,
}))
"""


def test_mlflow_autolog_register_alias_and_load(
    auth_server: LiveServer, mlflow_python: Path, tmp_path: Path
) -> None:
    tenant = add_tenant(auth_server, "mlflow-models")
    env = _mlflow_env(auth_server, tenant)
    out = json.loads(run_mlflow_script(mlflow_python, MODELS, env, tmp_path).splitlines()[-1])
    assert out["version"] == "1" and out["alias_version"] == "1"
    assert out["predicted"] == out["direct"] and len(out["predicted"]) == 5
    assert out["params"]["max_iter"] == "300"

    settings = Settings(uri=auth_server.url, token=tenant.token, workspace=tenant.workspace)
    client = gnomon.Client(settings=settings)
    version = client.registry.get_version("iris", 1)
    assert version.flavor == "mlflow" and version.run_id == out["run"]
    assert version.source.startswith("models:/m-")
    registry = auth_server.services.registry
    assert registry is not None  # the server recorded each file's digest at registration
    assert "MLmodel" in registry.get_version(tenant.scope, "iris", 1).files
    assert client.registry.get_model("iris").aliases == {"champion": 1}
    run = client.get_run(out["run"])
    assert run.params["max_iter"] == "300" and "training_score" in run.metrics

    # gnomon loads the version MLflow registered (checked against the recorded digests,
    # converted in this process) and predicts as MLflow's own pyfunc did.
    from sklearn.datasets import load_iris

    features, _ = load_iris(return_X_y=True, as_frame=True)
    loaded = gnomon.load_model("models:/iris@champion", client=client)
    assert [int(p) for p in loaded.predict(features.head(5))] == out["predicted"]
