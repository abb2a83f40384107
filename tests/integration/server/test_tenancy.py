"""Two users in two workspaces share one server; neither can read or change the other's
experiments, runs or artifacts, even knowing their ids."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

import gnomon
from gnomon.cli.app import app
from gnomon.client.transport import Transport
from gnomon.errors import NotFound
from gnomon.tracking.http import HttpRunArtifacts, HttpTrackingStore
from tests.fixtures.server import LiveServer, add_tenant


def test_tenants_cannot_see_each_other(auth_server: LiveServer, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    ws_a, token_a, _ = add_tenant(auth_server, f"a-{tag}")
    ws_b, token_b, scope_b = add_tenant(auth_server, f"b-{tag}")  # scope: the id
    alice = gnomon.Client(
        settings=gnomon.Settings(uri=auth_server.url, token=token_a, workspace=ws_a, home=tmp_path)
    )
    exp = alice.create_experiment("secret-project")
    run = alice.create_run(exp.id, "secret-run")
    (tmp_path / "weights.bin").write_bytes(b"\x01\x02")
    alice.log_artifact(run.id, tmp_path / "weights.bin")

    # Bob, in his own workspace, probing Alice's ids.
    bob_transport = Transport(auth_server.url, token=token_b, workspace=ws_b, retries=0)
    bob = HttpTrackingStore(bob_transport)
    with pytest.raises(NotFound):
        bob.get_experiment(scope_b, exp.id)
    with pytest.raises(NotFound):
        bob.get_run(scope_b, run.id)
    with pytest.raises(NotFound):
        bob.get_experiment_by_name(scope_b, "secret-project")
    with pytest.raises(NotFound):
        bob.rename_experiment(scope_b, exp.id, "stolen")
    with pytest.raises(NotFound):
        bob.get_metric_history(scope_b, run.id, "loss")
    with pytest.raises(NotFound):
        HttpRunArtifacts(bob_transport, run.id).list()
    with pytest.raises(NotFound):
        HttpRunArtifacts(bob_transport, run.id).get_bytes("weights.bin")
    assert [e.name for e in bob.list_experiments(scope_b)] == []

    # Bob naming Alice's workspace (the header carries the name): it does not exist for him.
    bob_in_a = Transport(auth_server.url, token=token_b, workspace=ws_a, retries=0)
    with pytest.raises(NotFound, match=f"workspace '{ws_a}'"):
        HttpTrackingStore(bob_in_a).list_experiments(scope_b)

    # Alice's objects are untouched.
    assert alice.get_experiment(exp.id).name == "secret-project"
    assert [a.path for a in alice.list_artifacts(run.id)] == ["weights.bin"]


def test_no_auth_refuses_to_bind_beyond_loopback(gnomon_home: Path) -> None:
    result = CliRunner().invoke(app, ["server", "--no-auth", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "bind to 127.0.0.1" in result.output
