"""``client.rollouts`` and ``client.policies`` over a gnomon server's REST API (the contracts
are :mod:`gnomon.automation.api`). The server starts, approves and aborts rollouts and
pauses policies; a worker beside the database steps the rollouts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from gnomon import checks
from gnomon.automation.entities import Firing, Policy, PolicyVersion, Rollout
from gnomon.automation.schemas import (
    AbortRollout,
    FiringOut,
    PolicyOut,
    PolicyVersionOut,
    RolloutOut,
    StartRollout,
)
from gnomon.client.transport import Transport, body, segment
from gnomon.errors import InvalidInput, NotFound

DEFINED_BESIDE = (
    "policies are created, updated and deleted beside the metadata database, where gnomon "
    "worker runs them (creating one imports its pipeline): set GNOMON_URI to the database "
    "(postgresql://... or sqlite:///...)"
)
# A policy's name may hold '/', so the routes take it as a path: GET /policies/a/versions is
# the versions of "a", and a policy named "a/versions" is found in the listing instead.
_SUFFIXES = ("/versions", "/firings")


class HttpRolloutClient:
    supports_auto_risk = False  # the server never loads models: give the risk

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

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
        sent = body(
            StartRollout, deployment=deployment, model=model, version=version, risk=risk,
            strategy=strategy, canary_steps=list(canary_steps), hold_s=hold_s,
            min_requests=min_requests, alias=alias,
        )  # fmt: skip
        answer = self.transport.one(
            "POST",
            "/rollouts",
            RolloutOut,
            content=sent.model_dump_json().encode(),  # a non-finite hold_s as a string
            headers={"content-type": "application/json"},
        )
        return answer.entity()

    def status(self, deployment: str) -> Rollout:
        return self.transport.one("GET", _deployment(deployment), RolloutOut).entity()

    def get(self, rollout_id: str) -> Rollout:
        path = f"/rollouts/{segment(checks.text('rollout id', rollout_id))}"
        return self.transport.one("GET", path, RolloutOut).entity()

    def list(self, deployment: str | None = None, limit: int = 50) -> list[Rollout]:
        params: dict[str, object] = {"limit": limit}
        if deployment is not None:
            params["deployment"] = deployment
        found = self.transport.many("GET", "/rollouts", RolloutOut, params=params)
        return [r.entity() for r in found]

    def approve(self, deployment: str) -> Rollout:
        path = f"{_deployment(deployment)}/approve"
        return self.transport.one("POST", path, RolloutOut).entity()

    def abort(self, deployment: str, reason: str = "") -> Rollout:
        sent = body(AbortRollout, reason=reason)
        path = f"{_deployment(deployment)}/abort"
        return self.transport.one("POST", path, RolloutOut, json=sent).entity()


class HttpPolicyClient:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def get(self, name: str) -> Policy:
        if name.endswith(_SUFFIXES):  # its path would read as another route's
            found = next((p for p in self.list() if p.name == name), None)
            if found is None:
                raise NotFound(f"policy {name!r} does not exist", {"policy": name})
            return found
        return self.transport.one("GET", _policy(name), PolicyOut).entity()

    def versions(self, name: str) -> list[PolicyVersion]:
        found = self.transport.many("GET", f"{_policy(name)}/versions", PolicyVersionOut)
        return [v.entity() for v in found]

    def firings(self, name: str, limit: int = 20) -> list[Firing]:
        path = f"{_policy(name)}/firings"
        found = self.transport.many("GET", path, FiringOut, params={"limit": limit})
        return [f.entity() for f in found]

    def pause(self, name: str) -> Policy:
        return self.transport.one("POST", f"{_policy(name)}/pause", PolicyOut).entity()

    def resume(self, name: str) -> Policy:
        return self.transport.one("POST", f"{_policy(name)}/resume", PolicyOut).entity()

    # Not in PoliciesApi: said plainly here, where a caller of the embedded client lands.
    def create(self, *_: object, **__: object) -> NoReturn:
        raise InvalidInput(DEFINED_BESIDE)

    def update(self, *_: object, **__: object) -> NoReturn:
        raise InvalidInput(DEFINED_BESIDE)

    def delete(self, *_: object, **__: object) -> NoReturn:
        raise InvalidInput(DEFINED_BESIDE)

    # Last: a method named ``list`` shadows the builtin for the annotations after it.
    def list(self) -> list[Policy]:
        return [p.entity() for p in self.transport.many("GET", "/policies", PolicyOut)]


def _deployment(name: str) -> str:
    """As ``deployments.http``'s path: a name the server could not route gets the embedded
    answer ('' is refused; no deployment name holds '/')."""
    checks.text("deployment name", name)
    if "/" in name:
        raise NotFound(f"deployment {name!r} not found", {"deployment": name})
    return f"/rollouts/deployment/{segment(name)}"


def _policy(name: str) -> str:
    return f"/policies/{segment(name)}"


__all__ = ["DEFINED_BESIDE", "HttpPolicyClient", "HttpRolloutClient"]
