"""A rollout started by hand (``client.rollouts.start``, ``gnomon rollout start``,
``POST /api/v1/rollouts``): its risk, given or read from the two versions' lineage, and the
plan that risk calls for. One function for every way in, so each refuses the same things
with the same messages.

Reading the lineage (``risk="auto"``) downloads both versions and may unpickle a model to
read its class, so it happens only beside the database, where the caller passes an
``Assess``; the API server passes none and refuses ``auto``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from gnomon._types import Scope
from gnomon.automation.entities import Rollout
from gnomon.automation.plans import plan_for
from gnomon.automation.rollouts import RolloutService
from gnomon.automation.spec import RISKS, STRATEGIES, RolloutSpec, duration, whole
from gnomon.checks import INT64_MAX
from gnomon.deployments.entities import ArmRole
from gnomon.errors import InvalidInput
from gnomon.tracking.validation import check_name

if TYPE_CHECKING:
    from gnomon.config import Settings

# (scope, model, candidate version, the primary's model, its version) → the risk as stored
Assess = Callable[[Scope, str, int, str, int], dict[str, Any]]
MAX_STEPS = 10
SERVER_AUTO = (
    "risk 'auto' reads the two versions' lineage, which may load their model files, and the "
    "API server never loads models: give the risk (low, medium or high; gnomon rollout start "
    "--risk), or start the rollout beside the metadata database (GNOMON_URI a database URI)"
)


def start_rollout(
    service: RolloutService,
    scope: Scope,
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
    assess: Assess | None = None,
) -> Rollout:
    """See :meth:`gnomon.automation.api.RolloutsApi.start`; ``assess`` reads ``auto`` risk."""
    if risk != "auto" and risk not in RISKS:
        raise InvalidInput(f"risk is auto or one of {', '.join(RISKS)}, not {risk!r}")
    if strategy is not None and strategy not in STRATEGIES:
        raise InvalidInput(f"strategy is one of {', '.join(STRATEGIES)}, not {strategy!r}")
    version = whole("version", version, 1, INT64_MAX)
    spec = RolloutSpec(
        canary_steps=_steps(canary_steps),
        hold_s=duration("hold_s", hold_s, low=1),
        min_requests=whole("min_requests", min_requests, 1, 10_000_000),
    )
    alias = None if alias is None else check_name("alias", alias)
    if risk == "auto":
        assessed = _assessed(service, scope, deployment, model, version, assess)
    else:
        assessed = _given(risk)
    plan = plan_for(assessed["level"], spec, None, strategy, alias)
    return service.start(scope, deployment, model, version, plan, assessed)


def lineage_risk(settings: Settings) -> Assess:
    """Beside the database: the risk :func:`gnomon.automation.loop.change_risk` reads, through
    a client of ``settings`` acting for the caller."""

    def assess(
        scope: Scope, model: str, version: int, serving: str, serving_version: int
    ) -> dict[str, Any]:
        from gnomon.automation.loop import change_risk
        from gnomon.sdk import Client

        client = Client(settings=settings, scope=scope)
        return change_risk(client, model, version, serving, serving_version, None)

    return assess


def _assessed(
    service: RolloutService,
    scope: Scope,
    deployment: str,
    model: str,
    version: int,
    assess: Assess | None,
) -> dict[str, Any]:
    if assess is None:
        raise InvalidInput(SERVER_AUTO)
    _, arms = service.deployments.resolve(scope, deployment)  # NotFound names the deployment
    primary = next(a for a in arms if a.arm.role is ArmRole.PRIMARY)
    if (primary.arm.model, primary.version) == (model, version):
        return _given("low")  # nothing to compare: RolloutService.start refuses it, naming it
    service.registry.get_version(scope, model, version)  # NotFound before any download
    return assess(scope, model, version, primary.arm.model, primary.version)


def _given(risk: str) -> dict[str, Any]:
    return {"level": risk, "changes": [{"kind": "given", "level": risk, "reason": "given by hand"}]}


def _steps(steps: Sequence[int]) -> tuple[int, ...]:
    if isinstance(steps, str | bytes) or not isinstance(steps, Sequence):
        raise InvalidInput(f"canary_steps is a list of percentages, e.g. [10, 50], not {steps!r}")
    if not 1 <= len(steps) <= MAX_STEPS:
        raise InvalidInput(f"canary_steps holds 1 to {MAX_STEPS} percentages, not {len(steps)}")
    weights = tuple(whole("canary_steps", w, 1, 99) for w in steps)
    if list(weights) != sorted(set(weights)):
        raise InvalidInput(f"canary_steps must rise, not {list(weights)}")
    return weights


__all__ = ["SERVER_AUTO", "Assess", "lineage_risk", "start_rollout"]
