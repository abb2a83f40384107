"""The closed loop's services and ``client.rollouts`` / ``client.policies`` in both modes.

Policies run beside the database in ``gnomon worker`` (their pipelines are user code), and so
does the rollout controller; a server's clients start, read, approve and abort rollouts and
read, pause and resume policies (``automation/api.py`` says what stays beside the database).
"""

from __future__ import annotations

from gnomon._types import Scope
from gnomon.automation.api import PoliciesApi, RolloutsApi
from gnomon.services import ServiceRegistry


def build(services: ServiceRegistry) -> None:
    if services.database is None:
        from gnomon.automation.http import HttpPolicyClient, HttpRolloutClient

        transport = services.transport
        assert transport is not None  # one of the two is always set
        services.expose("policies", PoliciesApi, lambda _: HttpPolicyClient(transport))
        services.expose("rollouts", RolloutsApi, lambda _: HttpRolloutClient(transport))
        return
    from gnomon.automation.policies import PolicyService
    from gnomon.automation.rollouts import RolloutService
    from gnomon.automation.sql import SqlAutomationStore
    from gnomon.data.service import DatasetService
    from gnomon.deployments.service import DeploymentService
    from gnomon.pipelines.schedules import ScheduleService
    from gnomon.registry.service import RegistryService

    store = SqlAutomationStore(services.database)
    deployments = services.get(DeploymentService)
    registry = services.get(RegistryService)
    rollouts = RolloutService(store, deployments, registry, services.settings)
    schedules = services.get(ScheduleService)
    policies = PolicyService(store, schedules, deployments, registry, services.find(DatasetService))
    schedules.hooks.append(policies)
    rollouts.ended.append(policies.rollout_ended)
    services.provide(RolloutService, rollouts)
    services.provide(PolicyService, policies)
    from gnomon.automation.client import PolicyClient, RolloutClient
    from gnomon.automation.starting import lineage_risk

    assess = lineage_risk(services.settings)

    def embedded_policies(scope: Scope) -> PoliciesApi:
        return PolicyClient(policies, scope)

    def embedded_rollouts(scope: Scope) -> RolloutsApi:
        return RolloutClient(rollouts, scope, assess)

    services.expose("policies", PoliciesApi, embedded_policies)
    services.expose("rollouts", RolloutsApi, embedded_rollouts)


def start_loop(services: ServiceRegistry) -> None:
    """Let this process follow policies' runs and smoke-test rollouts: it may load models
    (``gnomon worker``, tests, the demo), which the API server never does."""
    from gnomon.automation.loop import Loop
    from gnomon.automation.policies import PolicyService
    from gnomon.automation.rollouts import RolloutService
    from gnomon.registry.service import RegistryService

    rollouts = services.get(RolloutService)
    policies = services.get(PolicyService)
    loop = Loop(policies.store, rollouts, services.get(RegistryService), services.settings)
    policies.follow = loop.follow
    rollouts.smoke = loop.smoke
