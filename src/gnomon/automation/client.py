"""``client.policies`` and ``client.rollouts`` embedded (beside the database, where the worker
that runs them reads it): the services bound to the client's scope. The contracts are
:class:`gnomon.automation.api.PoliciesApi` and :class:`~gnomon.automation.api.RolloutsApi`;
``PolicyClient`` also defines policies, which only this side can (it imports the pipeline)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gnomon import checks
from gnomon._types import Scope
from gnomon.automation.api import LISTED_DECISIONS
from gnomon.automation.entities import Firing, Policy, PolicyVersion, Rollout
from gnomon.automation.policies import PolicyService
from gnomon.automation.rollouts import RolloutService
from gnomon.automation.starting import Assess, start_rollout


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
    def __init__(self, service: RolloutService, scope: Scope, assess: Assess | None) -> None:
        self.service = service
        self.scope = scope
        self.assess = assess  # reads risk="auto" from the lineage; None refuses it
        self.supports_auto_risk = assess is not None

    def start(
        self,
        deployment: str,
        model: str,
        version: int,
        *,
        risk: str = "auto",
        strategy: str | None = None,
        canary_steps: Sequence[int] = (10, 50),
        hold_s: float = 300.0,
        min_requests: int = 100,
        alias: str | None = "production",
    ) -> Rollout:
        return start_rollout(
            self.service, self.scope, deployment, model, version, risk=risk, strategy=strategy,
            canary_steps=canary_steps, hold_s=hold_s, min_requests=min_requests, alias=alias,
            assess=self.assess,
        )  # fmt: skip

    def status(self, deployment: str) -> Rollout:
        return self.service.latest(self.scope, deployment)

    def get(self, rollout_id: str) -> Rollout:
        return self.service.get(self.scope, checks.text("rollout id", rollout_id))

    def approve(self, deployment: str) -> Rollout:
        return self.service.approve(self.scope, deployment)

    def abort(self, deployment: str, reason: str = "") -> Rollout:
        return self.service.abort(self.scope, deployment, checks.text("reason", reason, True))

    def list(self, deployment: str | None = None, limit: int = 50) -> list[Rollout]:
        if deployment is not None:
            checks.text("deployment name", deployment)  # what the route's parameter checks
        return self.service.list(self.scope, deployment, limit, LISTED_DECISIONS)


__all__ = ["PolicyClient", "RolloutClient"]
