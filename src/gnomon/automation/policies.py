"""PolicyService: a policy is a schedule (its triggers and the pipeline they start: an
alert of a monitor, a dataset's new version, a cron) plus what follows each run — the gate,
the change's risk and the rollout its risk calls for. Its spec is versioned: each update is a
new version, and each firing records the version it followed.

The schedule's ticks are refused, and recorded as skipped with the reason, while the policy
cools down after its last retraining or while another retraining of the same model is in
flight (an open firing, up to its rollout's end: a unique index, whichever worker asks).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from gnomon._types import Scope, now_ms
from gnomon.automation.entities import Firing, Policy, PolicyVersion, Rollout
from gnomon.automation.spec import PolicySpec, parse_spec
from gnomon.automation.sql import MAX_LISTED, SqlAutomationStore
from gnomon.errors import AlreadyExists, InvalidInput, NotFound
from gnomon.pipelines.schedule_entities import NewSchedule, Schedule, Tick
from gnomon.tracking.validation import check_name

if TYPE_CHECKING:
    from gnomon.data.service import DatasetService
    from gnomon.deployments.service import DeploymentService
    from gnomon.pipelines.schedules import ScheduleService
    from gnomon.registry.service import RegistryService

logger = logging.getLogger("gnomon.automation.policies")
# What follows a firing's pipeline run (gate, risk, rollout): set by the wiring.
Follow = Callable[[Scope, Policy, Firing, Tick], None]


class PolicyService:
    def __init__(
        self,
        store: SqlAutomationStore,
        schedules: ScheduleService,
        deployments: DeploymentService,
        registry: RegistryService,
        datasets: DatasetService | None,
    ) -> None:
        self.store = store
        self.schedules = schedules
        self.deployments = deployments
        self.registry = registry
        self.datasets = datasets
        self.follow: Follow | None = None

    # -- defining ---------------------------------------------------------------------------------

    def create(
        self,
        scope: Scope,
        name: str,
        pipeline: str,
        spec: Mapping[str, Any],
        *,
        params: Mapping[str, Any] | None = None,
        cron: str | None = None,
        timezone: str = "UTC",
        dataset: str | None = None,
        monitor: str | None = None,
        alert_rule: str | None = None,
        executor: str = "local",
        import_pipeline: bool = True,
        now: int | None = None,
    ) -> Policy:
        """A policy retraining ``spec["model"]`` with ``pipeline`` on its triggers.

        Every object it names is looked up now: an unknown model, deployment, monitor,
        holdout dataset or (with ``import_pipeline``) pipeline is ``NotFound`` here, not
        when it fires.

        Raises:
            NotFound: an object it names does not exist.
            InvalidInput: a bad spec or trigger; no trigger.
            AlreadyExists: a policy or schedule of that name exists.
        """
        check_name("policy", name)
        checked = self._checked(scope, spec)
        if import_pipeline:
            _importable(pipeline)
        self.store_free(scope, name)
        new = NewSchedule(
            name, pipeline, dict(params or {}), cron, timezone, dataset, monitor, alert_rule,
            "latest", executor,
        )  # fmt: skip
        schedule = self.schedules.create(scope, new, now)
        try:
            self.store.create_policy(scope, name, schedule.id, checked.to_dict(), now_ms())
        except BaseException:
            self.schedules.delete(scope, name)  # never a schedule without its policy
            raise
        return self.get(scope, name)

    def store_free(self, scope: Scope, name: str) -> None:
        try:
            self.store.policy(scope, name)
        except NotFound:
            return
        raise AlreadyExists(f"policy {name!r} already exists", {"policy": name})

    def _checked(self, scope: Scope, spec: Mapping[str, Any]) -> PolicySpec:
        checked = parse_spec(spec)
        self.registry.get_model(scope, checked.model)  # NotFound names the model
        self.deployments.get(scope, checked.deployment)  # and the deployment
        if checked.gate.holdout is not None:
            if self.datasets is None:
                raise InvalidInput("a holdout dataset needs the data capability")
            self.datasets.version(scope, checked.gate.holdout)
        return checked

    def update(self, scope: Scope, name: str, spec: Mapping[str, Any], note: str = "") -> Policy:
        """A new version of the policy's spec (its triggers stay: recreate it to change them)."""
        checked = self._checked(scope, spec)
        self.store.update_policy(
            scope, check_name("policy", name), checked.to_dict(), note, now_ms()
        )
        return self.get(scope, name)

    def get(self, scope: Scope, name: str) -> Policy:
        row = self.store.policy(scope, check_name("policy", name))
        return self._policy(scope, row)

    def list(self, scope: Scope) -> list[Policy]:
        return [self._policy(scope, row) for row in self.store.policies(scope)]

    def versions(self, scope: Scope, name: str) -> list[PolicyVersion]:
        rows = self.store.versions(scope, check_name("policy", name))
        import orjson

        return [
            PolicyVersion(
                name,
                r["version"],
                orjson.loads(r["spec"]),
                r["note"],
                r["created_by"],
                r["created_time"],
            )
            for r in rows
        ]

    def delete(self, scope: Scope, name: str) -> None:
        self.store.delete_policy(scope, check_name("policy", name))
        with contextlib.suppress(NotFound):  # deleted by hand before
            self.schedules.delete(scope, name)

    def pause(self, scope: Scope, name: str) -> Policy:
        self.get(scope, name)
        self.schedules.pause(scope, name)
        return self.get(scope, name)

    def resume(self, scope: Scope, name: str) -> Policy:
        self.get(scope, name)
        self.schedules.resume(scope, name)
        return self.get(scope, name)

    def firings(self, scope: Scope, name: str, limit: int = 20) -> list[Firing]:
        if not 1 <= limit <= MAX_LISTED:
            raise InvalidInput(f"limit must be 1..{MAX_LISTED}, not {limit}")
        return self.store.firings(scope, check_name("policy", name), limit)

    def _policy(self, scope: Scope, row: Mapping[str, Any]) -> Policy:
        try:
            schedule: Schedule | None = self.schedules.get(scope, row["name"])
        except NotFound:
            schedule = None
        return _built(row, schedule)

    # -- the schedule's hooks ---------------------------------------------------------------------

    def before(self, schedule: Schedule, tick: str, now: int) -> str | None:
        """A reason to skip a policy's tick (cool-down, a retraining in flight); else opens
        the firing that ``after`` follows."""
        row = self.store.policy_of_schedule(schedule.id)
        if row is None:
            return None  # an ordinary schedule
        policy = _built(row, schedule)  # the schedule in hand: not read again
        spec = policy.spec
        last = self.store.last_started(policy.id)
        if last is not None and now - last < spec.cooldown_s * 1000:
            left = (spec.cooldown_s * 1000 - (now - last)) / 60_000
            return (
                f"policy {policy.name!r} is cooling down: its last retraining started "
                f"{(now - last) / 60_000:.1f} min ago; the next may start in {left:.1f} min"
            )
        open_firing = self.store.open_firing_of(schedule.workspace, spec.model)
        if open_firing is not None and now - open_firing.updated_ms > spec.stale_s * 1000:
            idle = (now - open_firing.updated_ms) / 60_000
            message = f"abandoned: no progress for {idle:.0f} min"
            self.store.update_firing(open_firing.id, now, status="failed", message=message)
            open_firing = None
        if open_firing is None:
            try:
                self.store.open_firing(schedule.workspace, row, spec.model, tick, now)
                return None
            except AlreadyExists:
                open_firing = self.store.open_firing_of(schedule.workspace, spec.model)
        where = f" (policy {open_firing.policy!r}, {open_firing.status})" if open_firing else ""
        return f"a retraining of model {spec.model!r} is in flight{where}: at most one at a time"

    def after(self, schedule: Schedule, tick: Tick) -> None:
        row = self.store.policy_of_schedule(schedule.id)
        if row is None:
            return
        scope = Scope(schedule.workspace, schedule.created_by)
        policy = _built(row, schedule)
        firing = self.store.open_firing_of(schedule.workspace, policy.spec.model)
        if firing is None or firing.tick != tick.tick[:200]:
            logger.warning("policy %r: no open firing for tick %s", policy.name, tick.tick)
            return
        firing = self.store.update_firing(firing.id, now_ms(), pipeline_run_id=tick.pipeline_run_id)
        if tick.status != "succeeded":
            self.store.update_firing(
                firing.id, now_ms(), status="failed",
                message=f"the pipeline run {tick.status}: {tick.message or 'no message'}",
            )  # fmt: skip
            return
        if self.follow is None:
            self.store.update_firing(
                firing.id, now_ms(), status="failed", message="no loop to follow the run"
            )
            return
        try:
            self.follow(scope, policy, firing, tick)
        except Exception as exc:
            logger.exception(
                "policy %r: following run %s failed", policy.name, tick.pipeline_run_id
            )
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            self.store.update_firing(firing.id, now_ms(), status="failed", message=message)

    def rollout_ended(self, scope: Scope, rollout: Rollout) -> None:
        """A rollout a firing started has ended: so has the firing."""
        if rollout.firing_id is not None:
            self.store.update_firing(rollout.firing_id, now_ms(), status=rollout.state)


def _built(row: Mapping[str, Any], schedule: Schedule | None) -> Policy:
    """The policy of ``row``, with its schedule's triggers (None: deleted by hand)."""
    import orjson

    return Policy(
        id=row["id"],
        name=row["name"],
        version=row["version"],
        schedule=row["name"],
        pipeline=schedule.pipeline if schedule else "",
        params=schedule.params if schedule else {},
        triggers=schedule.triggers if schedule else [],
        paused=schedule.paused if schedule else True,
        spec=PolicySpec.from_dict(orjson.loads(row["spec"])),
        created_by=row["created_by"],
        created_time=row["created_time"],
        updated_time=row["updated_time"],
    )


def _importable(ref: str) -> None:
    """``module:attribute`` names a pipeline importable here, from the current folder, as
    the worker will import it (the policy's author's own code, in their process)."""
    from gnomon.pipelines.loading import load_pipeline

    try:
        load_pipeline(ref)
    except InvalidInput as exc:
        if exc.message.startswith(("cannot import", "module ")):  # nothing by that name
            raise NotFound(f"pipeline {ref!r}: {exc.message}", {"pipeline": ref}) from None
        raise


__all__ = ["Follow", "PolicyService"]
