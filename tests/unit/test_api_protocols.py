"""Every capability's API Protocol and its implementations agree exactly: the same methods,
parameter names, defaults and keyword-only markers. mypy (``api.py``) holds the types; this
holds what mypy lets drift (a renamed parameter, a changed default)."""

from __future__ import annotations

import inspect

import pytest

from gnomon.auth.api import AuthApi
from gnomon.auth.http import HttpAuthClient
from gnomon.automation.api import RolloutsApi
from gnomon.automation.client import RolloutClient
from gnomon.automation.http import HttpRolloutClient
from gnomon.data.api import DatasetsApi
from gnomon.data.client import DatasetClient
from gnomon.data.http import HttpDatasetClient
from gnomon.deployments.api import DeploymentsApi
from gnomon.deployments.client import DeploymentClient
from gnomon.deployments.http import HttpDeploymentClient
from gnomon.pipelines.api import PipelinesApi
from gnomon.pipelines.client import PipelineClient
from gnomon.pipelines.http import HttpPipelineClient
from gnomon.registry.api import RegistryApi
from gnomon.registry.client import RegistryClient
from gnomon.registry.http import HttpRegistryClient

IMPLEMENTATIONS = [
    (RegistryApi, RegistryClient),
    (RegistryApi, HttpRegistryClient),
    (DeploymentsApi, DeploymentClient),
    (DeploymentsApi, HttpDeploymentClient),
    (AuthApi, HttpAuthClient),
    (DatasetsApi, DatasetClient),
    (DatasetsApi, HttpDatasetClient),
    (PipelinesApi, PipelineClient),
    (PipelinesApi, HttpPipelineClient),
    (RolloutsApi, RolloutClient),
    (RolloutsApi, HttpRolloutClient),
]


def _members(protocol: type) -> list[str]:
    return [n for n, v in vars(protocol).items() if callable(v) and not n.startswith("_")]


@pytest.mark.parametrize(("protocol", "implementation"), IMPLEMENTATIONS, ids=lambda c: c.__name__)
def test_implementation_matches_the_protocol(protocol: type, implementation: type) -> None:
    for name in _members(protocol):
        expected = inspect.signature(getattr(protocol, name))
        found = inspect.signature(getattr(implementation, name))
        assert str(found) == str(expected), f"{implementation.__name__}.{name}"


@pytest.mark.parametrize(("protocol", "implementation"), IMPLEMENTATIONS, ids=lambda c: c.__name__)
def test_no_public_method_outside_the_protocol(protocol: type, implementation: type) -> None:
    # Whatever a user can call on client.<capability> in one mode exists in the other.
    public = {n for n, v in vars(implementation).items() if callable(v) and n[0] != "_"}
    assert public <= set(_members(protocol))
