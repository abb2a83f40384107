"""Closed-loop REST routes under /api/v1: rollouts started, read, approved and aborted;
policies read, paused and resumed. Viewers read; editors change.

The server never steps a rollout nor runs its smoke test (both load the candidate: the
worker's job), never reads a change's risk from the lineage (``risk="auto"`` is refused:
``starting.SERVER_AUTO``) and never defines a policy (that imports the user's pipeline).
A policy's name may hold '/', so it is a path parameter, matched after its suffixed routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from gnomon import checks
from gnomon.auth.entities import AuditAction
from gnomon.automation.api import LISTED_DECISIONS
from gnomon.automation.entities import Policy, Rollout
from gnomon.automation.policies import PolicyService
from gnomon.automation.rollouts import RolloutService
from gnomon.automation.schemas import (
    AbortRollout,
    FiringOut,
    PolicyOut,
    PolicyVersionOut,
    RolloutOut,
    StartRollout,
)
from gnomon.automation.starting import start_rollout
from gnomon.server.access import Access, Caller, require
from gnomon.server.audit import audit
from gnomon.server.respond import wire
from gnomon.wire import QueryInt, Text

router = APIRouter(tags=["automation"])

Reader = Annotated[Caller, Depends(require(Access.VIEWER))]
Writer = Annotated[Caller, Depends(require(Access.EDITOR))]


async def _rollouts(request: Request) -> RolloutService:
    service: RolloutService = request.app.state.services.get(RolloutService)
    return service


async def _policies(request: Request) -> PolicyService:
    service: PolicyService = request.app.state.services.get(PolicyService)
    return service


Rollouts = Annotated[RolloutService, Depends(_rollouts)]
Policies = Annotated[PolicyService, Depends(_policies)]


# -- rollouts ---------------------------------------------------------------------------------


@router.post("/rollouts", status_code=201, response_model=RolloutOut)
def start(body: StartRollout, request: Request, caller: Writer, rollouts: Rollouts) -> Response:
    """Roll a version out over a deployment (a worker steps it); ``risk`` must be given."""
    started = start_rollout(
        rollouts, caller.scope, body.deployment, body.model, body.version, risk=body.risk,
        strategy=body.strategy, canary_steps=body.canary_steps, hold_s=body.hold_s,
        min_requests=body.min_requests, alias=body.alias,
    )  # fmt: skip
    _audit(request, caller, AuditAction.CREATE, started, {"risk": started.risk.get("level")})
    return wire(RolloutOut, started, 201)


@router.get("/rollouts", response_model=list[RolloutOut])
def list_rollouts(
    caller: Reader, rollouts: Rollouts, deployment: Text | None = None, limit: QueryInt = 50
) -> Response:
    """Newest first, of every deployment or of one."""
    if deployment is not None:
        checks.text("deployment name", deployment)  # '' as the embedded client refuses it
    found = rollouts.list(caller.scope, deployment, limit, LISTED_DECISIONS)
    return wire(list[RolloutOut], found)


@router.get("/rollouts/deployment/{name}", response_model=RolloutOut)
def status(name: Text, caller: Reader, rollouts: Rollouts) -> Response:
    """The deployment's newest rollout."""
    return wire(RolloutOut, rollouts.latest(caller.scope, name))


@router.post("/rollouts/deployment/{name}/approve", response_model=RolloutOut)
def approve(name: Text, request: Request, caller: Writer, rollouts: Rollouts) -> Response:
    """Let the rollout waiting for approval go on to live traffic."""
    approved = rollouts.approve(caller.scope, name)
    _audit(request, caller, AuditAction.UPDATE, approved, {"action": "approve"})
    return wire(RolloutOut, approved)


@router.post("/rollouts/deployment/{name}/abort", response_model=RolloutOut)
def abort(
    name: Text,
    request: Request,
    caller: Writer,
    rollouts: Rollouts,
    body: AbortRollout | None = None,
) -> Response:
    """Stop the running rollout and take the candidate's arm away; the body's ``reason`` is
    optional."""
    aborted = rollouts.abort(caller.scope, name, (body or AbortRollout()).reason)
    _audit(request, caller, AuditAction.UPDATE, aborted, {"action": "abort"})
    return wire(RolloutOut, aborted)


@router.get("/rollouts/{rollout_id}", response_model=RolloutOut)
def get_rollout(rollout_id: Text, caller: Reader, rollouts: Rollouts) -> Response:
    return wire(RolloutOut, rollouts.get(caller.scope, rollout_id))


def _audit(
    request: Request,
    caller: Caller,
    action: AuditAction,
    rollout: Rollout,
    details: dict[str, object],
) -> None:
    said = {"deployment": rollout.deployment, "candidate": rollout.candidate, **details}
    audit(request, caller, action, "rollout", rollout.id, said)


# -- policies ---------------------------------------------------------------------------------


@router.get("/policies", response_model=list[PolicyOut])
def list_policies(caller: Reader, policies: Policies) -> Response:
    return wire(list[PolicyOut], [PolicyOut.of(p) for p in policies.list(caller.scope)])


@router.get("/policies/{name:path}/versions", response_model=list[PolicyVersionOut])
def policy_versions(name: Text, caller: Reader, policies: Policies) -> Response:
    """Every version of the policy's spec, oldest first."""
    return wire(list[PolicyVersionOut], policies.versions(caller.scope, name))


@router.get("/policies/{name:path}/firings", response_model=list[FiringOut])
def policy_firings(
    name: Text, caller: Reader, policies: Policies, limit: QueryInt = 20
) -> Response:
    """What the policy did each time it fired, newest first."""
    return wire(list[FiringOut], policies.firings(caller.scope, name, limit))


@router.post("/policies/{name:path}/pause", response_model=PolicyOut)
def pause(name: Text, request: Request, caller: Writer, policies: Policies) -> Response:
    """Stop firing until resumed."""
    return _paused(request, caller, policies.pause(caller.scope, name))


@router.post("/policies/{name:path}/resume", response_model=PolicyOut)
def resume(name: Text, request: Request, caller: Writer, policies: Policies) -> Response:
    """Fire again, from now on."""
    return _paused(request, caller, policies.resume(caller.scope, name))


@router.get("/policies/{name:path}", response_model=PolicyOut)
def get_policy(name: Text, caller: Reader, policies: Policies) -> Response:
    return wire(PolicyOut, PolicyOut.of(policies.get(caller.scope, name)))


def _paused(request: Request, caller: Caller, policy: Policy) -> Response:
    audit(request, caller, AuditAction.UPDATE, "policy", policy.id, {"paused": policy.paused})
    return wire(PolicyOut, PolicyOut.of(policy))
