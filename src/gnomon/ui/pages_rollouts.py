"""The closed loop: rollouts (the list, and one rollout's risk, stages, decisions with their
figures and the candidate's share of traffic over time) and policies (the list, and one
policy's spec and firings with their gates, risks and rollouts). Read-only: a viewer sees
them all; approving or aborting stays with ``gnomon rollout``, beside the worker."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import HTMLResponse

from gnomon._types import now_ms
from gnomon.automation.api import LISTED_DECISIONS
from gnomon.automation.entities import Rollout
from gnomon.automation.policies import PolicyService
from gnomon.automation.rollouts import RolloutService
from gnomon.automation.tables import NAME_LENGTH
from gnomon.errors import NotFound
from gnomon.ui import policy_views, rollout_views
from gnomon.ui.common import Looker, OptionalText, matching, service
from gnomon.ui.render import PageRoute, page

router = APIRouter(route_class=PageRoute)

ROLLOUTS_LISTED = 100  # each is read with its decisions
POLICIES_LISTED = 500
FIRINGS_SHOWN = 50
DECISIONS_SHOWN = 500

RolloutId = Annotated[str, Path(min_length=1, max_length=64)]
PolicyName = Annotated[str, Path(min_length=1, max_length=NAME_LENGTH)]
DeploymentFilter = Annotated[str | None, Query(max_length=NAME_LENGTH)]


@router.get("/rollouts")
def rollouts_page(
    request: Request, viewer: Looker, deployment: DeploymentFilter = None
) -> HTMLResponse:
    """The workspace's rollouts, newest first; ``deployment`` keeps one deployment's."""
    rollouts = service(request, RolloutService)
    # Their decisions counted, not read: a rollout may hold tens of thousands.
    found = rollouts.list(viewer.scope, deployment or None, ROLLOUTS_LISTED, LISTED_DECISIONS)
    return page(
        request,
        "rollouts.html",
        viewer,
        rollouts=found,
        counts=rollouts.store.decision_counts([r.id for r in found]),
        deployment=deployment or "",
        listed_max=ROLLOUTS_LISTED,
        badges=rollout_views.STATE_BADGES,
    )


@router.get("/rollouts/{rollout_id}")
def rollout_page(request: Request, viewer: Looker, rollout_id: RolloutId) -> HTMLResponse:
    """One rollout: its risk, its stages, its decisions and the candidate's share."""
    rollouts = service(request, RolloutService)
    rollout = rollouts.get(viewer.scope, rollout_id, newest=DECISIONS_SHOWN)
    total = rollouts.store.decision_counts([rollout.id]).get(rollout.id, 0)
    return page(
        request,
        "rollout.html",
        viewer,
        rollout=rollout,
        policy=_policy_of(rollouts, rollout),
        state=rollout_views.state_words(rollout),
        limits=policy_views.limits_words(rollout.plan.limits),
        changes=rollout_views.risk_changes(rollout.risk),
        stages=rollout_views.stage_rows(rollout),
        decisions=rollout_views.decision_rows(rollout, DECISIONS_SHOWN),
        decisions_left_out=max(total - DECISIONS_SHOWN, 0),
        chart=rollout_views.share_chart(rollout, now_ms()),
        badges=rollout_views.STATE_BADGES,
        actions=rollout_views.ACTION_BADGES,
    )


@router.get("/policies")
def policies_page(request: Request, viewer: Looker, q: OptionalText = None) -> HTMLResponse:
    """The workspace's policies by name; ``q`` narrows by part of the name, model or
    deployment."""
    listed = service(request, PolicyService).list(viewer.scope)
    found = matching(listed, q, lambda p: (p.name, p.spec.model, p.spec.deployment))
    return page(
        request,
        "policies.html",
        viewer,
        policies=found[:POLICIES_LISTED],
        total=len(found),
        q=q or "",
    )


@router.get("/policies/{name:path}")
def policy_page(request: Request, viewer: Looker, name: PolicyName) -> HTMLResponse:
    """One policy (a path: a policy name may hold "/"): its spec and its newest firings,
    each with its gate, risk and rollout."""
    policies = service(request, PolicyService)
    policy = policies.get(viewer.scope, name)
    return page(
        request,
        "policy.html",
        viewer,
        policy=policy,
        spec=policy_views.spec_rows(policy),
        firings=policies.firings(viewer.scope, policy.name, FIRINGS_SHOWN),
        firings_max=FIRINGS_SHOWN,
        gate_sources=policy_views.gate_sources,
        badges=policy_views.FIRING_BADGES,
    )


def _policy_of(rollouts: RolloutService, rollout: Rollout) -> str | None:
    """The name of the policy whose firing started the rollout, if one did and remains."""
    if rollout.firing_id is None:
        return None
    with contextlib.suppress(NotFound):  # the policy (and its firings) was deleted since
        return rollouts.store.firing(rollout.firing_id).policy
    return None
