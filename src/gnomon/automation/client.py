"""``client.policies`` and ``client.rollouts`` embedded (beside the database, where the worker
that runs them reads it): the services bound to the client's scope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gnomon._types import Scope
from gnomon.automation.entities import Firing, Plan, Policy, PolicyVersion, Rollout
from gnomon.automation.policies import PolicyService
from gnomon.automation.rollouts import RolloutService


class PolicyClient:
    def __init__(self, service: PolicyService, scope: Scope) -> None:
        self.service = service
        self.scope = scope

    def create(self, name: str, pipeline: str, spec: Mapping[str, Any], **triggers: Any) -> Policy:
        """See :meth:`PolicyService.create`: ``triggers`` are ``cron``, ``timezone``,
        ``dataset``, ``monitor``, ``alert_rule``, ``params``, ``executor``."""
        return self.service.create(self.scope, name, pipeline, spec, **triggers)

    def update(self, name: str, spec: Mapping[str, Any], note: str = "") -> Policy:
        return self.service.update(self.scope, name, spec, note)

    def get(self, name: str) -> Policy:
        return self.service.get(self.scope, name)

    def versions(self, name: str) -> list[PolicyVersion]:
        return self.service.versions(self.scope, name)

    def firings(self, name: str, limit: int = 20) -> list[Firing]:
        return self.service.firings(self.scope, name, limit)

    def pause(self, name: str) -> Policy:
        return self.service.pause(self.scope, name)

    def resume(self, name: str) -> Policy:
        return self.service.resume(self.scope, name)

    def delete(self, name: str) -> None:
        self.service.delete(self.scope, name)

    def list(self) -> list[Policy]:
        return self.service.list(self.scope)


class RolloutClient:
    def __init__(self, service: RolloutService, scope: Scope) -> None:
        self.service = service
        self.scope = scope

    def start(
        self, deployment: str, model: str, version: int, plan: Plan, risk: dict[str, Any]
    ) -> Rollout:
        return self.service.start(self.scope, deployment, model, version, plan, risk)

    def status(self, deployment: str) -> Rollout:
        return self.service.latest(self.scope, deployment)

    def approve(self, deployment: str) -> Rollout:
        return self.service.approve(self.scope, deployment)

    def abort(self, deployment: str, reason: str = "") -> Rollout:
        return self.service.abort(self.scope, deployment, reason)

    def list(self, deployment: str | None = None, limit: int = 50) -> list[Rollout]:
        return self.service.list(self.scope, deployment, limit)


__all__ = ["PolicyClient", "RolloutClient"]
