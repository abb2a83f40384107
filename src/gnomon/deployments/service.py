"""DeploymentService: the rules of routing, over a DeploymentStore and the model registry.

Every change is checked before anything is written: the model version an arm names must
exist, live weights must add up to 100, an arm appears once. A change that loses a race with
another writer raises Conflict and writes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from gnomon import checks
from gnomon._types import Scope
from gnomon.artifacts import ArtifactStore
from gnomon.deployments.entities import (
    Action,
    Arm,
    ArmRole,
    Deployment,
    DeploymentEvent,
    ResolvedArm,
    Routing,
    ServingConfig,
    check_weight,
)
from gnomon.deployments.store import DeploymentStore
from gnomon.errors import InvalidInput
from gnomon.predictions.outcomes import check_outcomes, write_outcomes
from gnomon.predictions.reading import check_limit, read_deployment_records
from gnomon.registry.service import RegistryService, parse_model_uri
from gnomon.tracking import validation

if TYPE_CHECKING:
    import pandas as pd

POLICIES = ("reject", "warn", "clip")
MAX_SHADOWS = 3


class DeploymentService:
    def __init__(self, store: DeploymentStore, registry: RegistryService) -> None:
        self.store = store
        self.registry = registry

    # -- reading -----------------------------------------------------------------------------

    def get(self, scope: Scope, name: str) -> Deployment:
        return self.store.get(scope, checks.text("deployment name", name))

    def history(self, scope: Scope, name: str) -> list[DeploymentEvent]:
        return self.store.events(scope, checks.text("deployment name", name))

    def resolve(self, scope: Scope, name: str) -> tuple[Deployment, list[ResolvedArm]]:
        """The deployment and the version each arm's selector names now (aliases followed)."""
        deployment = self.get(scope, name)
        resolved = []
        for arm in deployment.routing.arms:
            version = self.registry.resolve(scope, arm.model, arm.selector)
            resolved.append(ResolvedArm(arm, version.version, version.storage_uri))
        return deployment, resolved

    # -- changing ----------------------------------------------------------------------------

    def create(
        self,
        scope: Scope,
        name: str,
        model: str,
        *,
        description: str = "",
        config: ServingConfig | None = None,
    ) -> Deployment:
        """A deployment whose primary is ``model`` (``churn@production``, ``churn/7``)."""
        checked = check_deployment_name(name)
        arm = self._arm(scope, model, ArmRole.PRIMARY, 100)
        routing = Routing((arm,))
        return self.store.create(
            scope,
            checked,
            checks.text("description", description, empty=True),
            routing,
            check_config(config or ServingConfig()),
        )

    def set_route(
        self,
        scope: Scope,
        name: str,
        model: str,
        *,
        canary: int | None = None,
        ab_key: str | None = None,
        ab_weight: int = 50,
        shadow: bool = False,
        note: str = "",
    ) -> Deployment:
        """Route to ``model``: as a canary taking ``canary`` percent at random, as an A/B arm
        taking ``ab_weight`` percent sticky by ``ab_key``, as a shadow, or — with none of
        those — as the new primary taking all traffic (a direct rollout).

        A canary or A/B arm replaces any earlier one; shadows are kept.
        """
        modes = [canary is not None, ab_key is not None, shadow]
        if sum(modes) > 1:
            raise InvalidInput("choose one of canary, A/B key or shadow for a route")
        current = self.get(scope, name)
        routing = current.routing
        if canary is not None:
            arm = self._arm(scope, model, ArmRole.CANARY, check_weight(canary))
            routing = _with_candidate(routing, arm, None)
        elif ab_key is not None:
            key = checks.text("A/B key", ab_key)
            arm = self._arm(scope, model, ArmRole.AB, check_weight(ab_weight))
            routing = _with_candidate(routing, arm, key)
        elif shadow:
            arm = self._arm(scope, model, ArmRole.SHADOW, 0)
            routing = _with_shadow(routing, arm)
        else:
            arm = self._arm(scope, model, ArmRole.PRIMARY, 100)
            routing = _with_primary(routing, arm)
        return self._change(current, scope, Action.SET_ROUTE, routing, note=note)

    def remove_route(self, scope: Scope, name: str, model: str, note: str = "") -> Deployment:
        """Stop routing to ``model`` (a canary, A/B arm or shadow; never the primary)."""
        current = self.get(scope, name)
        target = _parse_ref(model)
        arms = current.routing.arms
        found = [a for a in arms if (a.model, a.selector) == target]
        if not found:
            raise InvalidInput(f"deployment {name!r} does not route to {model!r}")
        if found[0].role is ArmRole.PRIMARY:
            raise InvalidInput(
                f"{model!r} is the primary of {name!r}; route another model directly instead"
            )
        kept = tuple(a for a in arms if (a.model, a.selector) != target)
        routing = Routing(kept, None).with_primary_weight()
        if any(a.role is ArmRole.AB for a in kept):
            routing = replace(routing, ab_key=current.routing.ab_key)
        return self._change(current, scope, Action.SET_ROUTE, routing, note=note)

    def promote(
        self, scope: Scope, name: str, model: str | None = None, note: str = ""
    ) -> Deployment:
        """Make the candidate (or ``model``, any arm) the primary with all traffic."""
        current = self.get(scope, name)
        routing = current.routing
        if model is not None:
            target = _parse_ref(model)
            arm = next((a for a in routing.arms if (a.model, a.selector) == target), None)
            if arm is None:
                raise InvalidInput(f"deployment {name!r} does not route to {model!r}")
        else:
            arm = routing.candidate or (routing.shadows[0] if len(routing.shadows) == 1 else None)
            if arm is None:
                raise InvalidInput(
                    f"deployment {name!r} has no canary or A/B arm to promote; name the model"
                )
        if arm.role is ArmRole.PRIMARY:
            raise InvalidInput(f"{arm.ref!r} is already the primary of {name!r}")
        promoted = replace(arm, role=ArmRole.PRIMARY, weight=100)
        return self._change(
            current, scope, Action.PROMOTE, _with_primary(routing, promoted), note=note
        )

    def rollback(self, scope: Scope, name: str, note: str = "") -> Deployment:
        """Go back to the routing and config of the revision before the current one (like
        ``kubectl rollout undo``: rolling back twice returns to where you started)."""
        current = self.get(scope, name)
        if current.revision == 1:
            raise InvalidInput(f"deployment {name!r} has no earlier revision to roll back to")
        previous = self.store.event(scope, current.name, current.revision - 1)
        return self._change(
            current, scope, Action.ROLLBACK, previous.routing, previous.config, note=note
        )

    def update(
        self,
        scope: Scope,
        name: str,
        *,
        description: str | None = None,
        config: ServingConfig | None = None,
        note: str = "",
    ) -> Deployment:
        """Change the description or the serving config (policy, batching)."""
        current = self.get(scope, name)
        return self._change(
            current,
            scope,
            Action.UPDATE,
            current.routing,
            None if config is None else check_config(config),
            None if description is None else checks.text("description", description, empty=True),
            note,
        )

    def delete(self, scope: Scope, name: str) -> None:
        self.store.delete(scope, checks.text("deployment name", name))

    # -- records and outcomes ----------------------------------------------------------------

    def log_outcomes(
        self, scope: Scope, serving: ArtifactStore, name: str, outcomes: object
    ) -> int:
        """Write ground truth for ``name``'s requests into ``serving``, the workspace's
        predictions store (:func:`gnomon.predictions.storage.predictions_store`), where model
        servers' records join it; the number written. See
        :func:`gnomon.predictions.outcomes.check_outcomes` for the accepted shapes.

        Raises:
            InvalidInput: a bad shape or item (checked before anything else), or too many.
            NotFound: no such deployment.
            Unavailable: the serving store refused the write.
        """
        pairs = check_outcomes(outcomes)
        deployment = self.get(scope, name)
        return write_outcomes(serving, deployment.name, pairs)

    def records(
        self,
        scope: Scope,
        serving: ArtifactStore,
        name: str,
        *,
        with_outcomes: bool = True,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """The newest ``limit`` prediction records of ``name`` (all: ``None``), oldest first,
        with ``outcome`` and ``outcome_time`` columns when ``with_outcomes``.

        Raises:
            InvalidInput: a limit that is not a positive integer.
            NotFound: no such deployment.
        """
        checked = check_limit(limit)
        deployment = self.get(scope, name)
        return read_deployment_records(
            serving, deployment.name, with_outcomes=with_outcomes, limit=checked
        )

    # -- helpers -----------------------------------------------------------------------------

    def _arm(self, scope: Scope, model: str, role: ArmRole, weight: int) -> Arm:
        name, selector = _parse_ref(model)
        self.registry.resolve(scope, name, selector)  # NotFound names what does not exist
        return Arm(name, selector, role, weight)

    def _change(
        self,
        current: Deployment,
        scope: Scope,
        action: Action,
        routing: Routing,
        config: ServingConfig | None = None,
        description: str | None = None,
        note: str = "",
    ) -> Deployment:
        return self.store.change(
            scope,
            current.name,
            current.revision,
            action,
            _checked_routing(routing),
            config if config is not None else current.config,
            description if description is not None else current.description,
            checks.text("note", note, empty=True),
        )

    # Last in the class: a method named ``list`` shadows the builtin for the annotations
    # after it (mypy reads ``list[...]`` below it as this method).
    def list(self, scope: Scope) -> list[Deployment]:
        return self.store.list(scope)


def check_deployment_name(name: object) -> str:
    """Experiment-name rules, and no ``/``: deployment names appear in URL paths and in the
    Parquet partitions of prediction records."""
    checked = validation.check_name("deployment", name)
    if "/" in checked:
        raise InvalidInput(f"deployment name {checked!r} contains '/'", {"name": checked})
    return checked


def check_config(config: ServingConfig) -> ServingConfig:
    if config.policy not in POLICIES:
        raise InvalidInput(f"unknown policy {config.policy!r}: use reject, warn or clip")
    if config.batching not in (None, True, False):
        raise InvalidInput(f"batching must be true, false or null, got {config.batching!r}")
    rows = config.batch_max_rows
    if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= 100_000:
        raise InvalidInput(f"batch_max_rows must be an integer from 1 to 100000, got {rows!r}")
    wait = config.batch_wait_ms
    if isinstance(wait, bool) or not isinstance(wait, int | float) or not 0 <= wait <= 1000:
        raise InvalidInput(f"batch_wait_ms must be a number from 0 to 1000, got {wait!r}")
    return config


def _parse_ref(model: object) -> tuple[str, str]:
    """``churn@production``, ``churn/7``, ``churn`` (latest) or a ``models:/`` URI."""
    text = checks.text("model", model)
    uri = text if text.startswith("models:/") else f"models:/{text}"
    name, selector = parse_model_uri(uri)
    return name, "latest" if selector is None else str(selector)


def _with_candidate(routing: Routing, arm: Arm, ab_key: str | None) -> Routing:
    _distinct_from_live(routing, arm, keep_candidate=False)
    kept = tuple(
        a
        for a in routing.arms
        if a.role is ArmRole.PRIMARY or (a.role is ArmRole.SHADOW and _differs(a, arm))
    )
    return Routing((*kept, arm), ab_key).with_primary_weight()


def _with_shadow(routing: Routing, arm: Arm) -> Routing:
    _distinct_from_live(routing, arm, keep_candidate=True)
    shadows = [a for a in routing.shadows if _differs(a, arm)]
    if len(shadows) >= MAX_SHADOWS:
        raise InvalidInput(f"a deployment has at most {MAX_SHADOWS} shadows; remove one first")
    return Routing((*routing.live, *shadows, arm), routing.ab_key)


def _with_primary(routing: Routing, arm: Arm) -> Routing:
    """``arm`` takes all traffic; the old candidate goes, shadows of other models stay."""
    shadows = tuple(a for a in routing.shadows if _differs(a, arm))
    return Routing((arm, *shadows), None)


def _distinct_from_live(routing: Routing, arm: Arm, *, keep_candidate: bool) -> None:
    live = routing.live if keep_candidate else (routing.primary,)
    for other in live:
        if not _differs(other, arm):
            raise InvalidInput(f"{arm.ref!r} already answers this deployment as {other.role.value}")


def _differs(a: Arm, b: Arm) -> bool:
    return (a.model, a.selector) != (b.model, b.selector)


def _checked_routing(routing: Routing) -> Routing:
    live = routing.live
    if sum(1 for a in live if a.role is ArmRole.PRIMARY) != 1:
        raise InvalidInput("a deployment needs exactly one primary")
    if sum(a.weight for a in live) != 100:
        raise InvalidInput("the live arms' weights must add up to 100")
    if any(a.role is ArmRole.AB for a in live) != (routing.ab_key is not None):
        raise InvalidInput("an A/B arm needs an A/B key, and only an A/B arm has one")
    return routing
