"""ScheduleService: schedules that start pipelines on a cron, a dataset's new version or a
monitor's alert, and ``run_due``, the worker's round over every workspace's schedules.

Each round, a schedule's due ticks (``triggers.py``) are claimed one at a time by inserting
their rows (``schedules_sql.py``) and run as they are won, so workers racing for a schedule
share its backlog and run each tick once. A paused schedule makes no ticks; resuming it
starts from now, unless its catch-up is ``all``, which replays what the pause held back.

Running a pipeline runs user code: ``gnomon worker`` calls ``run_due``; the API server never
does (it only stores schedules' rows, through no route yet).
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from gnomon._types import Scope, now_ms
from gnomon.errors import InvalidInput
from gnomon.logs.context import log_context
from gnomon.pipelines import cron
from gnomon.pipelines.api import PipelinesApi
from gnomon.pipelines.executors import EXECUTORS
from gnomon.pipelines.schedule_entities import CATCHUPS, NewSchedule, Schedule, Tick
from gnomon.pipelines.schedule_hooks import TickHooks
from gnomon.pipelines.schedule_runs import run_tick
from gnomon.pipelines.schedules_sql import SqlScheduleStore
from gnomon.pipelines.service import MAX_PARAMS_BYTES
from gnomon.pipelines.triggers import (
    MAX_TICKS_PER_ROUND,
    Due,
    alert_due,
    cron_due,
    dataset_due,
    latest_version,
)
from gnomon.tracking.validation import check_name

if TYPE_CHECKING:
    from gnomon.data.service import DatasetService
    from gnomon.monitoring.service import MonitorService

logger = logging.getLogger("gnomon.pipelines.schedules")

ON_TIME_MS = 5 * 60_000  # catchup=none: a tick found later than this was missed
MAX_HISTORY = 1_000
_REF = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


class ScheduleService:
    def __init__(
        self,
        store: SqlScheduleStore,
        pipelines_for: Callable[[Scope], PipelinesApi],
        datasets: Callable[[], DatasetService | None],
        monitors: Callable[[], MonitorService | None],
    ) -> None:
        self.store = store
        self.pipelines_for = pipelines_for  # client.pipelines of a schedule's workspace
        # Both found on first use: most schedules watch no dataset and no monitor.
        self._datasets = datasets
        self.monitors = monitors
        # What other capabilities add around a won tick (the closed loop's policies): a
        # reason to skip it, and what follows the pipeline's run.
        self.hooks: list[TickHooks] = []

    @property
    def datasets(self) -> DatasetService | None:
        return self._datasets()

    def create(self, scope: Scope, new: NewSchedule, now: int | None = None) -> Schedule:
        """Store ``new``; its first cron tick is the first after ``now`` (default: now)."""
        checked = self._checked(scope, new)
        at = now_ms() if now is None else now
        return self.store.create(scope, checked, self._cursors(scope, checked, at), at)

    def _checked(self, scope: Scope, new: NewSchedule) -> NewSchedule:
        check_name("schedule", new.name)
        if not isinstance(new.pipeline, str) or not _REF.fullmatch(new.pipeline):
            raise InvalidInput(
                f"a schedule's pipeline is module:attribute (my_project.flows:train), "
                f"not {str(new.pipeline)[:80]!r}"
            )
        if len(new.pipeline) > 1000:
            raise InvalidInput(f"pipeline is {len(new.pipeline)} characters; at most 1000")
        if new.cron is None and new.dataset is None and new.monitor is None:
            raise InvalidInput(
                "a schedule needs a trigger: a cron, a dataset's new versions or a monitor's alerts"
            )
        _check_params(new.params)
        if new.catchup not in CATCHUPS:
            raise InvalidInput(f"catchup is one of {', '.join(CATCHUPS)}, not {new.catchup!r}")
        if new.executor not in EXECUTORS:
            raise InvalidInput(
                f"unknown executor {str(new.executor)[:40]!r}: use one of {', '.join(EXECUTORS)}"
            )
        timezone = cron.check_timezone(new.timezone)
        expr = None if new.cron is None else cron.check_cron(new.cron)
        if new.dataset is not None:
            check_name("dataset", new.dataset)
        if new.alert_rule is not None and new.monitor is None:
            raise InvalidInput("an alert rule is given with its monitor: MONITOR/RULE")
        if new.monitor is not None:
            self._check_alert(scope, new.monitor, new.alert_rule)
        return replace(new, cron=expr, timezone=timezone)

    def _check_alert(self, scope: Scope, monitor: str, rule: str | None) -> None:
        monitors = self.monitors()
        if monitors is None:
            raise InvalidInput("alert triggers need monitoring, which this store does not offer")
        monitors.get(scope, monitor)  # NotFound names it
        if rule is not None:
            found = cast("list[tuple[Any, Any]]", monitors.rules(scope, monitor))
            rules = sorted(r.name for r, _ in found)
            if rule not in rules:
                raise InvalidInput(
                    f"monitor {monitor!r} has no alert rule {rule[:100]!r}; "
                    f"it has {', '.join(rules) or 'none'}"
                )

    def _cursors(self, scope: Scope, s: NewSchedule | Schedule, now: int) -> dict[str, int | None]:
        """Where each trigger starts watching from ``now``: nothing before it fires."""
        cursors: dict[str, int | None] = {}
        if s.cron is not None:
            cursors["next_ms"] = cron.next_after(s.cron, s.timezone, now)
        if s.dataset is not None and self.datasets is not None:
            cursors["seen_version"] = latest_version(self.datasets, scope, s.dataset) or 0
        if s.monitor is not None:
            cursors["seen_alert_ms"] = now
        return cursors

    def get(self, scope: Scope, name: str) -> Schedule:
        return self.store.get(scope, check_name("schedule", name))

    def pause(self, scope: Scope, name: str) -> Schedule:
        return self.store.set_paused(scope, check_name("schedule", name), True, {})

    def resume(self, scope: Scope, name: str, now: int | None = None) -> Schedule:
        """Resume ``name``: from ``now`` on, or (catchup=all) from where it was paused."""
        schedule = self.get(scope, name)
        if not schedule.paused:
            return schedule
        at = now_ms() if now is None else now
        cursors = {} if schedule.catchup == "all" else self._cursors(scope, schedule, at)
        return self.store.set_paused(scope, name, False, cursors)

    def delete(self, scope: Scope, name: str) -> None:
        self.store.delete(scope, check_name("schedule", name))

    def history(self, scope: Scope, name: str, limit: int = 100) -> list[Tick]:
        """The newest ``limit`` ticks, newest first."""
        if not 1 <= limit <= MAX_HISTORY:
            raise InvalidInput(f"limit must be 1..{MAX_HISTORY}, not {limit}")
        return self.store.ticks(scope, check_name("schedule", name), limit)

    def run_due(
        self, owner: str | None = None, now: int | None = None, *, grace_ms: int = ON_TIME_MS
    ) -> list[Tick]:
        """Claim and run every due tick of every workspace's schedules (``gnomon worker``);
        the ticks this call claimed, each finished or skipped."""
        owner = owner or _owner()
        at = now_ms() if now is None else now
        done: list[Tick] = []
        for schedule in self.store.active():
            for due in self._due(schedule, at, grace_ms):
                # Each tick is a step of its own in the logs, with its own request id.
                with log_context(workspace=schedule.workspace, object=f"schedules/{schedule.name}"):
                    try:
                        tick = self._take(schedule, due, owner, at)
                    except Exception:  # the database away for a moment: the next round retries
                        logger.exception("schedule %r: tick %s failed", schedule.name, due.tick)
                        break
                    if tick is not None:
                        logger.info(
                            "schedule %r: tick %s %s", schedule.name, tick.tick, tick.status
                        )
                        done.append(tick)
        return done

    def _due(self, schedule: Schedule, now: int, grace_ms: int) -> Iterator[Due]:
        """Each trigger's due ticks; a trigger that cannot be read is logged and passed."""
        triggers = (self._cron_due, self._dataset_due, self._alert_due)
        for trigger in triggers:
            try:
                found = list(trigger(schedule, now, grace_ms))
            except Exception:  # a dataset or monitor deleted since, the database away
                logger.exception("schedule %r: %s failed", schedule.name, trigger.__name__)
                continue
            yield from found

    def _latest(self, schedule: Schedule) -> int | None:
        if schedule.dataset is None or self.datasets is None:
            return None
        scope = Scope(schedule.workspace, schedule.created_by)
        return latest_version(self.datasets, scope, schedule.dataset)

    def _cron_due(self, schedule: Schedule, now: int, grace_ms: int) -> Iterator[Due]:
        """Cron ticks; a schedule that also watches a dataset gives its latest version."""
        dues = list(cron_due(schedule, now, grace_ms))
        latest = self._latest(schedule) if dues else None
        offers = {"dataset": f"{schedule.dataset}@{latest}"} if latest is not None else {}
        for due in dues:
            yield replace(due, params=offers) if offers else due

    def _dataset_due(self, schedule: Schedule, now: int, grace_ms: int) -> Iterator[Due]:
        yield from dataset_due(schedule, self._latest(schedule))

    def _alert_due(self, schedule: Schedule, now: int, grace_ms: int) -> Iterator[Due]:
        if schedule.monitor is None or schedule.seen_alert_ms is None:
            return
        monitors = self.monitors()
        if monitors is None:
            return
        scope = Scope(schedule.workspace, schedule.created_by)
        events = monitors.store.fired_since(
            scope, schedule.monitor, schedule.seen_alert_ms, schedule.alert_rule,
            MAX_TICKS_PER_ROUND,
        )  # fmt: skip
        taken = self.store.taken(schedule.id, [f"alert:{event_id}" for event_id, _ in events])
        yield from alert_due(events, taken)

    def _take(self, schedule: Schedule, due: Due, owner: str, now: int) -> Tick | None:
        """Claim ``due``; if won, run it (or record it skipped). None when not won."""
        if not due.claim:
            self.store.advance(schedule.id, due.cursor, due.moved_to)
            return None
        status = "pending" if due.skipped is None else "skipped"
        won = self.store.claim(schedule.id, due.tick, owner, now, status, due.skipped)
        if won != "closed":  # won, or taken by another worker: either way it is behind us
            self.store.advance(schedule.id, due.cursor, due.moved_to)
        if won != "won":
            return None
        if due.skipped is not None:
            return Tick(schedule.name, due.tick, "skipped", owner, None, due.skipped, now, now)
        return self._run(schedule, due, owner, now)

    def _run(self, schedule: Schedule, due: Due, owner: str, claimed: int) -> Tick:
        for hook in self.hooks:
            reason = hook.before(schedule, due.tick, claimed)
            if reason is not None:
                at = now_ms()
                self.store.update_tick(schedule.id, due.tick, at, status="skipped", message=reason)
                return Tick(schedule.name, due.tick, "skipped", owner, None, reason, claimed, at)
        self.store.update_tick(schedule.id, due.tick, now_ms(), status="running")

        def started(run_id: str) -> None:
            self.store.update_tick(schedule.id, due.tick, now_ms(), run_id=run_id)

        status, run_id, message = run_tick(
            schedule.pipeline,
            schedule.params,
            due.params,
            self.pipelines_for(Scope(schedule.workspace, schedule.created_by)),
            executor=schedule.executor,
            trigger=f"schedule:{schedule.name}",
            started=started,
        )
        ended = now_ms()
        self.store.update_tick(
            schedule.id, due.tick, ended, status=status, run_id=run_id, message=message
        )
        tick = Tick(schedule.name, due.tick, status, owner, run_id, message, claimed, ended)
        for hook in self.hooks:
            try:
                hook.after(schedule, tick)
            except Exception:  # the tick ran and is recorded; the hook records its own failure
                logger.exception("schedule %r: what follows tick %s failed", schedule.name, tick)
        return tick

    def list(self, scope: Scope) -> list[Schedule]:
        return self.store.list(scope)


def _check_params(params: object) -> None:
    if not isinstance(params, dict):
        raise InvalidInput(f"params must be an object, not {type(params).__name__}")
    try:  # NaN and infinities too: a pipeline run refuses them (JSON has none)
        size = len(json.dumps(params, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"params are not JSON: {exc}") from None
    if size > MAX_PARAMS_BYTES:
        raise InvalidInput(f"params are {size} bytes of JSON; at most {MAX_PARAMS_BYTES}")


def _owner() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


__all__ = ["ON_TIME_MS", "ScheduleService"]
