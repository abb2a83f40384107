"""What a server loads: an alias resolved once, batchers kept or retired on a reload, and the
CLI's workspace reaching the worker processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import gnomon
from gnomon.config import Settings
from gnomon.deployments.entities import ServingConfig
from gnomon.registry.service import RegistryService
from gnomon.serving import loading
from gnomon.serving.loading import DeploymentLoader, ServeOptions, load_served
from tests.fixtures.registry import register_churn_versions


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    """Model ``churn`` with versions 1 and 2; ``production`` points at 2."""
    client = register_churn_versions(40)
    client.registry.set_alias("churn", "production", 2)
    return client


def test_an_alias_is_resolved_once_and_the_files_fetched_by_number(
    client: gnomon.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[Any] = []
    resolve = RegistryService.resolve

    def spy(self: RegistryService, scope: Any, name: str, selector: Any = None) -> Any:
        asked.append(selector)
        return resolve(self, scope, name, selector)

    monkeypatch.setattr(RegistryService, "resolve", spy)
    served = load_served(ServeOptions("models:/churn@production"), Settings())
    assert (served.name, served.version, served.uri) == ("churn", 2, "models:/churn@production")
    assert asked == ["production", 2]


def test_a_reload_keeps_batchers_only_where_batching_is_unchanged(client: gnomon.Client) -> None:
    client.deployments.create("churn-api", "churn/1")
    loader = DeploymentLoader(client, "churn-api")
    first = loader()
    assert first is not None and first.primary.batcher is not None

    client.deployments.set_route("churn-api", "churn/2", canary=10)  # a canary; same batching
    second = loader(first)
    assert second is not None and second.primary.batcher is first.primary.batcher

    client.deployments.update("churn-api", config=ServingConfig(batching=False))
    third = loader(second)
    assert third is not None and all(arm.batcher is None for arm in third.live)


def test_workers_serve_the_workspace_the_cli_was_given(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Settings] = []
    monkeypatch.setattr(loading, "build_app", lambda options, settings: built.append(settings))
    options = ServeOptions("models:/churn/1", workspace="team-a")
    monkeypatch.setenv(loading.SERVE_ENV, options.to_env())
    loading.app_from_environment()
    assert built[0].workspace == "team-a"
