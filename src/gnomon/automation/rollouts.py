"""RolloutService: progressive rollouts of a candidate version over a deployment, stepped
by the controller in ``gnomon worker`` on live evidence, every decision recorded with the
figures it read.

A stage's routing is applied as the rollout enters it (a shadow arm, a canary's weight, the
promotion), and checked against the deployment first, so a step retried after a crash does
not change the routing twice. Rolling back removes the candidate's arm and leaves the rest of
the routing as it is; nothing else of the deployment is touched.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gnomon._types import Scope, now_ms
from gnomon.automation.controller import judge
from gnomon.automation.entities import Action, Decision, Plan, Rollout, Stage
from gnomon.automation.evidence import Evidence, gather
from gnomon.automation.sql import MAX_LISTED, SqlAutomationStore
from gnomon.deployments.entities import Arm, ArmRole
from gnomon.errors import Conflict, GnomonError, InvalidInput, NotFound
from gnomon.logs.context import log_context
from gnomon.predictions.storage import predictions_store

if TYPE_CHECKING:
    from gnomon.artifacts.store import ArtifactStore
    from gnomon.config import Settings
    from gnomon.deployments.service import DeploymentService
    from gnomon.registry.service import RegistryService

logger = logging.getLogger("gnomon.automation.rollouts")
LEASE_MS = 120_000
# Decisions read with a rollout for people (the newest, and every one that changed the
# traffic): a canary short of answers records an extension each hold, without end.
SHOWN_DECISIONS = 500
STEPPED_DECISIONS = 20  # what a controller step reads back: it needs none of the history
# The smoke test: None when the candidate answered its sample, else why not; it loads the
# model (user code), so only the worker's controller runs it.
Smoke = Callable[[Scope, Rollout], "str | None"]
_LIVE = ("shadow", "canary")


class RolloutService:
    def __init__(
        self,
        store: SqlAutomationStore,
        deployments: DeploymentService,
        registry: RegistryService,
        settings: Settings,
    ) -> None:
        self.store = store
        self.deployments = deployments
        self.registry = registry
        self.settings = settings
        self.smoke: Smoke | None = None  # set by the worker: the API server never loads models
        self.ended: list[Callable[[Scope, Rollout], None]] = []  # the policies' firings
        self.owner = _owner()  # this process's name on the leases it takes

    # -- starting, reading, a person's say ------------------------------------------------------

    def start(
        self,
        scope: Scope,
        deployment: str,
        model: str,
        version: int,
        plan: Plan,
        risk: dict[str, Any],
        *,
        firing_id: str | None = None,
        now: int | None = None,
    ) -> Rollout:
        """A rollout of ``model/version`` over ``deployment``; its first stage starts now.

        Raises:
            NotFound: the deployment or the version.
            InvalidInput: the version already answers as the primary.
            Conflict: the deployment has a rollout running.
        """
        at = now_ms() if now is None else now
        current, arms = self.deployments.resolve(scope, deployment)
        candidate = self.registry.get_version(scope, model, version)
        primary = next(a for a in arms if a.arm.role is ArmRole.PRIMARY)
        if primary.arm.model == model and primary.version == candidate.version:
            raise InvalidInput(f"{model}/{version} already answers {deployment!r} as its primary")
        champion = primary.version if primary.arm.model == model else None
        stages = ", ".join(stage.describe() for stage in plan.stages)
        level = risk.get("level", "unknown")
        decision = Decision(
            0, at, 0, "start", f"{level} risk: {plan.strategy} rollout ({stages})", {"risk": risk}
        )
        return self.store.insert_rollout(
            scope, current.name, model, version, champion, risk, plan, firing_id, at, decision
        )

    def get(self, scope: Scope, rollout_id: str, newest: int | None = SHOWN_DECISIONS) -> Rollout:
        """The rollout; ``newest``: with its newest decisions only (see the store's)."""
        return self.store.rollout(rollout_id, scope, newest)

    def latest(
        self, scope: Scope, deployment: str, newest: int | None = SHOWN_DECISIONS
    ) -> Rollout:
        """The deployment's newest rollout. Raises ``NotFound``."""
        self.deployments.get(scope, deployment)  # NotFound names the deployment
        found = self.store.rollouts(scope, deployment, 1, newest)
        if not found:
            raise NotFound(
                f"deployment {deployment!r} has had no rollout", {"deployment": deployment}
            )
        return found[0]

    def list(
        self,
        scope: Scope,
        deployment: str | None = None,
        limit: int = 50,
        newest: int | None = SHOWN_DECISIONS,
    ) -> list[Rollout]:
        if not 1 <= limit <= MAX_LISTED:
            raise InvalidInput(f"limit must be 1..{MAX_LISTED}, not {limit}")
        return self.store.rollouts(scope, deployment, limit, newest)

    def approve(self, scope: Scope, deployment: str, now: int | None = None) -> Rollout:
        """Let a rollout waiting for approval go on to live traffic.

        Raises:
            InvalidInput: the deployment's rollout is not waiting for approval.
        """
        rollout = self.latest(scope, deployment)
        if rollout.state != "awaiting_approval":
            raise InvalidInput(
                f"the rollout of {rollout.candidate} over {deployment!r} is {rollout.state}, "
                "not waiting for approval"
            )
        at = now_ms() if now is None else now
        said = _decision(rollout, at, "approve", f"approved by {scope.principal}")
        return self._advance(scope, rollout, None, said)

    def abort(
        self, scope: Scope, deployment: str, reason: str = "", now: int | None = None
    ) -> Rollout:
        """Stop the deployment's running rollout and take the candidate's arm away."""
        rollout = self.latest(scope, deployment)
        if rollout.ended:
            raise InvalidInput(
                f"the rollout of {rollout.candidate} over {deployment!r} has ended "
                f"({rollout.state})"
            )
        at = now_ms() if now is None else now
        said = f"aborted by {scope.principal}" + (f": {reason[:500]}" if reason else "")
        return self._end(scope, rollout, None, _decision(rollout, at, "abort", said), "aborted")

    # -- the controller ---------------------------------------------------------------------------

    def run_due(self, owner: str | None = None, now: int | None = None) -> list[Rollout]:
        """Step every running rollout of every workspace whose lease this worker gets."""
        owner = owner or self.owner
        stepped = []
        for workspace, rollout_id in self.store.active_rollouts():
            # Each step is one of its own in the logs, with its own request id.
            with log_context(workspace=workspace, object=f"rollouts/{rollout_id}"):
                rollout = self._step_due(workspace, rollout_id, owner, now)
            if rollout is not None:
                stepped.append(rollout)
        return stepped

    def _step_due(
        self, workspace: str, rollout_id: str, owner: str, now: int | None
    ) -> Rollout | None:
        """The rollout after one step, or None: another worker holds it, or the step failed."""
        at = now_ms() if now is None else now
        try:
            if not self.store.take_lease(rollout_id, owner, at, LEASE_MS):
                return None
            try:
                rollout = self.store.rollout(rollout_id, newest=STEPPED_DECISIONS)
                stepped = self.step(Scope(workspace, rollout.created_by), rollout, owner, at)
                logger.info("rollout %s stepped: %s", rollout_id, stepped.state)
                return stepped
            finally:
                self.store.release_lease(rollout_id, owner)
        except Exception:  # one rollout's trouble must not hold the others back
            logger.exception("rollout %s: a step failed", rollout_id)
            return None

    def step(self, scope: Scope, rollout: Rollout, owner: str | None, now: int) -> Rollout:
        stage = rollout.current
        if stage is None or rollout.ended:
            return rollout
        if rollout.state == "awaiting_approval":
            return rollout
        if stage.kind == "smoke":
            return self._smoke(scope, rollout, owner, now)
        if stage.kind == "approval":
            said = _decision(rollout, now, "hold", "waiting for approval: gnomon rollout approve")
            return self._record(rollout, owner, said, {"state": "awaiting_approval"})
        if stage.kind == "promote":
            return self._promote(scope, rollout, owner, now)
        evidence = self.evidence(scope, rollout, now)
        elapsed = (now - rollout.stage_started_ms) / 1000
        verdict = judge(stage, rollout.plan, evidence, elapsed)
        if verdict.action == "hold":
            return rollout  # nothing new: not recorded every round
        said = _decision(rollout, now, verdict.action, verdict.reason, evidence.to_dict())
        if verdict.action == "extend":
            return self._record(rollout, owner, said, _extended(rollout, now))
        if verdict.action == "rollback":
            return self._end(scope, rollout, owner, said, "rolled_back")
        return self._advance(scope, rollout, owner, said)

    def evidence(self, scope: Scope, rollout: Rollout, now: int) -> Evidence:
        return gather(
            self.predictions(scope),
            rollout.deployment,
            rollout.model,
            rollout.candidate_version,
            rollout.stage_started_ms,
            now + 1,
            rollout.plan.model_type,
        )

    def _smoke(self, scope: Scope, rollout: Rollout, owner: str | None, now: int) -> Rollout:
        if self.smoke is None:
            return rollout  # the API server: a worker runs the smoke test
        try:
            problem = self.smoke(scope, rollout)
        except GnomonError as exc:
            problem = exc.message
        except Exception as exc:  # the candidate's own code failed to load or answer
            problem = f"{type(exc).__name__}: {exc}"
        if problem is None:
            said = _decision(rollout, now, "advance", "smoke test passed")
            return self._advance(scope, rollout, owner, said)
        if problem.startswith("wait:"):
            said = _decision(rollout, now, "extend", problem[5:].strip())
            return self._record(rollout, owner, said, _extended(rollout, now))
        said = _decision(rollout, now, "rollback", f"smoke test failed: {problem}")
        return self._end(scope, rollout, owner, said, "rolled_back")

    def _promote(self, scope: Scope, rollout: Rollout, owner: str | None, now: int) -> Rollout:
        arm = self._arm(scope, rollout)
        note = _note(rollout, "promoted")
        if arm is None:  # a direct rollout: the candidate takes all traffic at once
            self.deployments.set_route(scope, rollout.deployment, rollout.candidate, note=note)
        elif arm.role is not ArmRole.PRIMARY:
            self.deployments.promote(scope, rollout.deployment, rollout.candidate, note=note)
        alias = rollout.plan.alias
        if alias is not None:
            self.registry.set_alias(scope, rollout.model, alias, rollout.candidate_version)
        said = f"promoted {rollout.candidate} to all traffic" + (f"; {alias} → it" if alias else "")
        return self._end(
            scope, rollout, owner, _decision(rollout, now, "promote", said), "promoted"
        )

    def _arm(self, scope: Scope, rollout: Rollout) -> Arm | None:
        """The candidate's arm in the deployment's routing now, if it has one."""
        routing = self.deployments.get(scope, rollout.deployment).routing
        wanted = (rollout.model, str(rollout.candidate_version))
        return next((a for a in routing.arms if (a.model, a.selector) == wanted), None)

    # -- changing the routing and the record ----------------------------------------------------

    def _advance(
        self, scope: Scope, rollout: Rollout, owner: str | None, decision: Decision
    ) -> Rollout:
        now = decision.at_ms
        following = rollout.stage + 1
        stage = rollout.plan.stages[following]
        if stage.kind in _LIVE:
            self._route(scope, rollout, stage)
        values = {"stage": following, "stage_started_ms": now, "extensions": 0, "state": "running"}
        moved = self._record(rollout, owner, decision, values)
        if stage.kind in ("promote", "approval") and not moved.ended:
            return self.step(scope, moved, owner, now)  # nothing to wait for before it
        return moved

    def _end(
        self, scope: Scope, rollout: Rollout, owner: str | None, decision: Decision, state: str
    ) -> Rollout:
        if state != "promoted":
            self._unroute(scope, rollout)
        ended = self._record(rollout, owner, decision, {"state": state})
        for hook in self.ended:
            try:
                hook(scope, ended)
            except Exception:
                logger.exception("rollout %s: what follows its end failed", rollout.id)
        return ended

    def _record(
        self, rollout: Rollout, owner: str | None, decision: Decision, values: dict[str, Any]
    ) -> Rollout:
        """Store ``decision`` (taken at the rollout's stage) with the rollout's new
        ``values``; ``Conflict`` when the stage changed or the lease was lost meanwhile."""
        if not self.store.record(rollout.id, decision, values, owner, rollout.stage):
            raise Conflict(
                f"the rollout of {rollout.candidate} over {rollout.deployment!r} changed "
                "meanwhile; look again"
            )
        return self.store.rollout(rollout.id, newest=STEPPED_DECISIONS)

    def _route(self, scope: Scope, rollout: Rollout, stage: Stage) -> None:
        """The candidate's arm as ``stage`` wants it, unless the deployment has it so."""
        arm = self._arm(scope, rollout)
        note = _note(rollout, stage.describe())
        name, candidate = rollout.deployment, rollout.candidate
        if stage.kind == "shadow":
            if arm is None:
                self.deployments.set_route(scope, name, candidate, shadow=True, note=note)
            return
        if arm is not None and arm.role is ArmRole.CANARY and arm.weight == stage.weight:
            return
        if arm is not None and arm.role is ArmRole.PRIMARY:
            return
        self.deployments.set_route(scope, name, candidate, canary=stage.weight, note=note)

    def _unroute(self, scope: Scope, rollout: Rollout) -> None:
        arm = self._arm(scope, rollout)
        if arm is not None and arm.role is not ArmRole.PRIMARY:
            note = _note(rollout, "rolled back")
            self.deployments.remove_route(scope, rollout.deployment, rollout.candidate, note=note)

    def predictions(self, scope: Scope) -> ArtifactStore:
        """The workspace's prediction records and outcomes."""
        settings = self.settings
        return predictions_store(settings.artifact_root, scope.workspace, settings.s3_endpoint_url)


def _decision(
    rollout: Rollout, now: int, action: Action, reason: str, figures: dict[str, Any] | None = None
) -> Decision:
    """A decision taken now at the rollout's current stage (its seq is the store's)."""
    return Decision(0, now, rollout.stage, action, reason, figures or {})


def _extended(rollout: Rollout, now: int) -> dict[str, Any]:
    """The rollout's values once its stage's hold starts again."""
    return {"stage_started_ms": now, "extensions": rollout.extensions + 1}


def _note(rollout: Rollout, what: str) -> str:
    return f"rollout {rollout.id[:8]}: {what}"


def _owner() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


__all__ = ["LEASE_MS", "SHOWN_DECISIONS", "RolloutService", "Smoke"]
