"""`gnomon k8s manifests`' storage and identity options, from the shell: records that would
be lost are refused in one line, before any store is opened."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

import gnomon
from gnomon.cli.app import app

runner = CliRunner()
ARGS = ["k8s", "manifests", "churn-api", "--server-uri", "http://gnomon.mlops.svc:5000"]


def test_records_without_an_artifact_root_are_refused_in_one_line(gnomon_home: Path) -> None:
    result = runner.invoke(app, ARGS)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: prediction records would live on the pod's")
    assert "--artifacts s3://" in result.stderr and "--no-records" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not (gnomon_home / "gnomon.db").exists()  # refused before the store is opened


def test_storage_and_identity_reach_the_pods(gnomon_home: Path) -> None:
    from sklearn.dummy import DummyClassifier

    with gnomon.start_run():
        uri = gnomon.log_model(DummyClassifier().fit([[0], [1]], [0, 1]), "model")
    gnomon.register_model(uri, "churn", alias="production")
    gnomon.get_client().deployments.create("churn-api", "churn@production")
    options = ["--artifacts", "s3://ml/gnomon", "--s3-secret", "gnomon-s3"]
    result = runner.invoke(app, [*ARGS, *options, "--service-account", "gnomon-models"])
    assert result.exit_code == 0, result.output
    deployment = next(yaml.safe_load_all(result.stdout))
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "gnomon-models"
    assert pod["automountServiceAccountToken"] is True
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["GNOMON_ARTIFACTS"]["value"] == "s3://ml/gnomon"
    assert env["GNOMON_S3_ENDPOINT_URL"]["valueFrom"]["secretKeyRef"]["name"] == "gnomon-s3"

    off = runner.invoke(app, [*ARGS, "--no-records"])
    assert off.exit_code == 0, off.output
    pod = next(yaml.safe_load_all(off.stdout))["spec"]["template"]["spec"]
    assert pod["containers"][0]["args"][-1] == "--no-records"
    assert pod["automountServiceAccountToken"] is False
