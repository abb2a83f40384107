"""A name that is not found comes with the closest name of the caller's own workspace, over
HTTP as embedded; never a name of another workspace."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import gnomon
from gnomon.errors import NotFound
from tests.fixtures.server import LiveServer, Tenant, add_tenant


def _client(live: LiveServer, tenant: Tenant, home: Path) -> gnomon.Client:
    settings = gnomon.Settings(
        uri=live.url, token=tenant.token, workspace=tenant.workspace, home=home
    )
    return gnomon.Client(settings=settings)


@pytest.fixture
def clients(auth_server: LiveServer, tmp_path: Path) -> tuple[gnomon.Client, gnomon.Client]:
    tag = uuid.uuid4().hex[:8]
    mine = _client(auth_server, add_tenant(auth_server, f"{tag}-a"), tmp_path / "a")
    theirs = _client(auth_server, add_tenant(auth_server, f"{tag}-b"), tmp_path / "b")
    return mine, theirs


def test_experiments_suggest_from_the_callers_workspace_only(
    clients: tuple[gnomon.Client, gnomon.Client],
) -> None:
    mine, theirs = clients
    mine.create_experiment("forecast")
    theirs.create_experiment("churn")
    meant = r"^experiment 'forecats' not found; did you mean 'forecast'\?$"
    with pytest.raises(NotFound, match=meant):
        mine.search_runs("forecats")
    with pytest.raises(NotFound, match=r"^experiment 'chrun' not found$"):
        mine.search_runs("chrun")  # 'churn' is the other workspace's


def test_models_suggest_from_the_callers_workspace_only(
    clients: tuple[gnomon.Client, gnomon.Client],
) -> None:
    mine, theirs = clients
    mine.registry.create_model("forecast")
    theirs.registry.create_model("churn")
    # Raised by the server's registry service; the message travels in the error payload.
    with pytest.raises(NotFound, match=r"'forecats' not found; did you mean 'forecast'\?$"):
        mine.registry.get_model("forecats")
    with pytest.raises(NotFound, match=r"'forecats' not found; did you mean 'forecast'\?$"):
        mine.registry.get_version("forecats", "production")
    with pytest.raises(NotFound, match=r"^registered model 'chrun' not found$"):
        mine.registry.get_model("chrun")
