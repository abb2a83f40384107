"""``Scope.workspace`` is the workspace's id in every mode: embedded, on the server, and in a
remote client, which asks the server for it once (``GET /api/v1/workspace``)."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest

import gnomon
from gnomon.auth.entities import Principal
from gnomon.errors import NotFound, Unavailable
from tests.fixtures.server import LiveServer, Tenant, add_tenant


@pytest.fixture
def tenant(auth_server: LiveServer) -> Tenant:
    return add_tenant(auth_server, uuid.uuid4().hex[:8])


def _remote(live: LiveServer, tenant: Tenant, home: Path, workspace: str) -> gnomon.Client:
    settings = gnomon.Settings(uri=live.url, token=tenant.token, workspace=workspace, home=home)
    return gnomon.Client(settings=settings)


def test_a_remote_scope_holds_the_id_the_server_scopes_by(
    auth_server: LiveServer, tenant: Tenant, tmp_path: Path
) -> None:
    client = _remote(auth_server, tenant, tmp_path, tenant.workspace)
    assert client.scope.workspace == tenant.scope.workspace != tenant.workspace
    experiment = client.create_experiment("scoped")
    assert experiment.workspace_id == client.scope.workspace
    # The server records the change under the same id.
    auth = auth_server.services.auth
    assert auth is not None
    root = Principal(auth.get_user("admin").id, "admin", is_admin=True)
    (event,) = auth.list_audit(root, tenant.workspace, object_type="experiment").items
    assert event.workspace_id == client.scope.workspace


def test_an_embedded_scope_holds_the_id_too(gnomon_home: Path) -> None:
    client = gnomon.Client()
    assert client.scope.workspace == "default"  # the default workspace's id is its name
    assert client.create_experiment("scoped").workspace_id == client.scope.workspace


def test_an_unknown_workspace_is_not_found_by_name_in_both_modes(
    auth_server: LiveServer, tenant: Tenant, tmp_path: Path, gnomon_home: Path
) -> None:
    remote = _remote(auth_server, tenant, tmp_path, "nowhere")
    with pytest.raises(NotFound, match="workspace 'nowhere' not found") as from_server:
        remote.scope  # noqa: B018  (the first use asks the server)
    with pytest.raises(NotFound, match="workspace 'nowhere' not found") as embedded:
        gnomon.Client(workspace="nowhere")
    assert str(from_server.value) == str(embedded.value)


def test_a_workspace_of_someone_else_is_not_found_either(
    auth_server: LiveServer, tenant: Tenant, tmp_path: Path
) -> None:
    other = add_tenant(auth_server, uuid.uuid4().hex[:8])
    with pytest.raises(NotFound, match=f"workspace '{other.workspace}' not found"):
        _remote(auth_server, tenant, tmp_path, other.workspace).scope  # noqa: B018


def test_a_remote_client_asks_nothing_until_it_is_used(tmp_path: Path) -> None:
    with socket.socket() as unused:  # a port nothing listens on once this closes
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings = gnomon.Settings(
        uri=f"http://127.0.0.1:{port}", home=tmp_path, retry_backoff_seconds=0.01
    )
    client = gnomon.Client(settings=settings)  # nothing sent yet: the server may be down
    with pytest.raises(Unavailable, match="cannot reach"):
        client.scope  # noqa: B018
