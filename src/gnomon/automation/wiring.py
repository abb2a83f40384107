"""The closed loop's services, embedded only: policies run beside the database in
``gnomon worker`` (their pipelines are user code), and so does the rollout controller."""

from __future__ import annotations

from gnomon.services import ServiceRegistry


def build(services: ServiceRegistry) -> None:
    if services.database is None:
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

    services.expose("policies", PolicyClient, lambda scope: PolicyClient(policies, scope))
    services.expose("rollouts", RolloutClient, lambda scope: RolloutClient(rollouts, scope))


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
